/**
 * Ting's meeting view. The app's room view implements `MeetingHost` (see `./host.ts`) and calls
 * `mountMeeting(el, host)`; the view owns `el` until it calls `host.closed()`.
 *
 * Media is end-to-end encrypted with SFrame in a dedicated worker (`./media-worker.ts`) keyed
 * from the room's MLS group; the SFU forwards ciphertext only.
 */

import "./meeting.css";
import type { MeetingHost, MeetingView } from "./host";
import { MeetingController } from "./meeting";

export type { MeetingHost, MeetingMember, MeetingView, MediaKeyMessage, Lang } from "./host";

export function mountMeeting(el: HTMLElement, host: MeetingHost): MeetingView {
  return new MeetingController(el, host);
}
