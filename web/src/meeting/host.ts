/**
 * The contract between the app shell and the meeting view.
 *
 * The app (room view) implements `MeetingHost` and calls `mountMeeting(el, host)` from
 * `./index.ts`; the meeting view owns everything inside `el` until it calls `host.closed()`.
 * Key material never passes through this interface as plain JS values on the main thread:
 * the crypto worker hands SFrame epochs to the media worker over `mediaKeyPort()`.
 */

/** One device in the room's MLS group, as the crypto worker sees it. */
export interface MeetingMember {
  /** Server device id (matches `device_id` in meeting signaling), if known. */
  deviceId: string | null;
  /** MLS credential identity (the username, as ting-client sets it). */
  userId: string;
  /** Display name (username) for labels. */
  name: string;
  /** MLS leaf index (SFrame sender id: `DecryptedFrame.senderLeaf`). */
  leafIndex: number;
  /** Hex Ed25519 device key. */
  deviceKey: string;
  /** The local user has verified this user's safety number. */
  verified: boolean;
}

/**
 * Messages the crypto worker posts on a media key port (structured clone; `bytes` is a fresh
 * `Uint8Array` the receiver owns):
 * - `{ type: "epoch", epoch, bytes }` now and at every epoch change of the room's group —
 *   `bytes` is `TingClient.mediaEpoch(roomId)`, to be passed to `TingMediaKeys.setEpoch`;
 * - `{ type: "members", members: MeetingMember[] }` now and at every membership change;
 * - `{ type: "left" }` when this device was removed from the group (stop sending and leave).
 */
export type MediaKeyMessage =
  | { type: "epoch"; epoch: number; bytes: Uint8Array }
  | { type: "members"; members: MeetingMember[] }
  | { type: "left" };

export type Lang = "sv" | "en";

export interface MeetingHost {
  roomId: string;
  roomName: string;
  self: { userId: string; name: string; deviceId: string };
  /** Current UI language; `onLang` fires when the user switches it. */
  lang(): Lang;
  onLang(handler: (lang: Lang) => void): () => void;
  /** Sends a `ClientMessage` (ting-proto `ws.rs`, JSON) on the app's WebSocket. */
  send(msg: Record<string, unknown>): void;
  /** Every `ServerEvent` from the app's WebSocket; returns an unsubscribe function. */
  onEvent(handler: (ev: { type: string; [k: string]: unknown }) => void): () => void;
  /** WebSocket up/down (the app reconnects by itself); returns an unsubscribe function. */
  onConnection(handler: (connected: boolean) => void): () => void;
  /**
   * A new MessagePort carrying `MediaKeyMessage`s for this room from the crypto worker.
   * Transfer it to the media (encoded-transform) worker; each call opens a new port.
   */
  mediaKeyPort(): Promise<MessagePort>;
  /** The room's group members right now. */
  members(): Promise<MeetingMember[]>;
  /** Opens the safety-number dialog for a user (from the participant list). */
  verifyUser(userId: string): void;
  /** The meeting view has ended (left, removed or failed); the app unmounts it. */
  closed(): void;
}

export interface MeetingView {
  /** Leaves the meeting (sends `meeting_leave`, stops tracks) and resolves when done. */
  leave(): Promise<void>;
}
