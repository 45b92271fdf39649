/**
 * Loads the meeting view (`../meeting/index.ts`) on demand, as its own chunk. The glob import
 * resolves to nothing when the module is absent, so the app builds and runs without it and
 * shows meetings as unavailable.
 */
import type { MeetingHost, MeetingView } from "../meeting/host";

type MeetingModule = { mountMeeting(el: HTMLElement, host: MeetingHost): MeetingView };

const modules = import.meta.glob<MeetingModule>("../meeting/index.ts");
const load = modules["../meeting/index.ts"];

export function meetingAvailable(): boolean {
  return load !== undefined;
}

export async function mountMeeting(el: HTMLElement, host: MeetingHost): Promise<MeetingView> {
  if (!load) throw Object.assign(new Error("meetings are not part of this build"), { code: "meetings_unavailable" });
  const mod = await load();
  return mod.mountMeeting(el, host);
}
