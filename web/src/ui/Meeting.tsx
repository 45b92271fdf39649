/** The slot the meeting view mounts into (it owns everything inside until it closes). */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { errorText, t } from "../i18n";
import { createMeetingHost } from "../app/meeting-host";
import { mountMeeting } from "../app/meeting-slot";
import type { MeetingView } from "../meeting/host";

export function Meeting(props: { roomId: string; roomName: string; onVerify: (user: string) => void; onClosed: () => void }): JSX.Element {
  const el = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const cb = useRef(props);
  cb.current = props;

  useEffect(() => {
    let view: MeetingView | null = null;
    let closed = false;
    const host = createMeetingHost({
      roomId: props.roomId,
      roomName: props.roomName,
      verifyUser: (u) => cb.current.onVerify(u),
      closed: () => {
        closed = true;
        cb.current.onClosed();
      },
    });
    if (el.current) {
      mountMeeting(el.current, host).then(
        (v) => {
          view = v;
          if (closed) void v.leave();
        },
        (err: unknown) => setError((err as { code?: string }).code ?? "meeting_failed"),
      );
    }
    return () => {
      closed = true;
      if (view) void view.leave();
      void host;
    };
  }, [props.roomId]);

  return (
    <section class="meeting-slot" aria-label={t("room.meeting")} data-testid="meeting-slot">
      {error ? (
        <div class="notice notice-warning" role="alert">
          {errorText(error)}{" "}
          <button type="button" class="link-button" onClick={props.onClosed}>
            {t("common.close")}
          </button>
        </div>
      ) : null}
      <div ref={el} class="meeting-mount" />
    </section>
  );
}
