/**
 * Messages between the meeting view (main thread) and the media worker.
 *
 * Key material never crosses this boundary: the worker gets SFrame epochs straight from the
 * crypto worker over the transferred `MediaKeyPort` and reports back only epoch numbers,
 * membership and per-stream counters.
 */

import type { MeetingMember } from "./host";

export type MediaKind = "audio" | "video";

/** SFrame stream numbers of this sender's outbound tracks (the low 4 bits of the key id context). */
export const SFRAME_STREAM = { audio: 0, camera: 1, screen: 2 } as const;

/** Options of one encoded transform (`RTCRtpScriptTransform` options or the fallback message). */
export interface TransformOptions {
  /** Unique per sender/receiver for the lifetime of the worker. */
  id: string;
  side: "send" | "recv";
  kind: MediaKind;
  /** Outbound SFrame stream number (send side). */
  stream?: number;
}

/** Main thread → worker. */
export type ToWorker =
  | { type: "keys"; port: MessagePort }
  | ({ type: "streams"; readable: ReadableStream; writable: WritableStream } & TransformOptions)
  | { type: "forget"; id: string };

/** Counters of one transform since it started. */
export interface StreamCounters {
  id: string;
  side: "send" | "recv";
  kind: MediaKind;
  /** Frames encrypted (send) or decrypted and passed to the decoder (recv). */
  ok: number;
  /** Frames dropped because they did not decrypt (wrong or unknown epoch, unknown sender, tampered). */
  failed: number;
  /** Frames dropped as replays. */
  replayed: number;
  /** Frames dropped before any epoch was known (send: nothing to encrypt with). */
  noKey: number;
  /** `Date.now()` of the last `ok` and `failed` frame, 0 if none. */
  lastOkAt: number;
  lastFailedAt: number;
  /** Code of the last failure (`unknown_epoch`, `tampered`, …). */
  lastError: string | null;
  /** Sender leaf, epoch and SFrame stream number of the last decrypted frame. */
  senderLeaf: number | null;
  epoch: number | null;
  sframeStream: number | null;
}

/** Worker → main thread. */
export type FromWorker =
  | { type: "ready" }
  | { type: "epoch"; epoch: number; fingerprint: string | null }
  | { type: "members"; members: MeetingMember[] }
  | { type: "left" }
  | { type: "stats"; streams: StreamCounters[] }
  | { type: "error"; message: string };
