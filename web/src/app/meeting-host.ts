/** The app's side of the meeting contract (`../meeting/host.ts`). */
import type { MeetingHost, MeetingMember } from "../meeting/host";
import { lang, onLang } from "../i18n";
import { store } from "./store";

export function createMeetingHost(opts: {
  roomId: string;
  roomName: string;
  verifyUser: (userId: string) => void;
  closed: () => void;
}): MeetingHost {
  const session = store.state.session;
  if (!session) throw new Error("not signed in");
  const { roomId } = opts;
  return {
    roomId,
    roomName: opts.roomName,
    self: { userId: session.username, name: session.username, deviceId: session.deviceId },
    lang,
    onLang,
    send(msg) {
      if (!store.conn.send(msg)) console.warn("meeting message not sent: disconnected", msg["type"]);
    },
    onEvent: (handler) => store.conn.onEvent(handler),
    onConnection(handler) {
      const off = store.conn.onState(handler);
      handler(store.conn.connected);
      return off;
    },
    mediaKeyPort: () => store.crypto.call("mediaKeyPort", roomId),
    members: (): Promise<MeetingMember[]> => store.crypto.call("meetingMembers", roomId),
    verifyUser: opts.verifyUser,
    closed() {
      void store.crypto.call("releaseMediaPorts", roomId).catch(() => undefined);
      opts.closed();
    },
  };
}
