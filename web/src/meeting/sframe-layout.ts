/**
 * Which bytes of an encoded frame stay in the clear.
 *
 * RTP packetizers, depacketizers and the SFU read the codec's own header at the start of each
 * frame, so those bytes are kept in the clear and passed to SFrame as *metadata*
 * (authenticated, not encrypted); the rest of the frame becomes the SFrame ciphertext. The
 * layout matches Ting's native participant (`ting-client::meeting::frame`) and the scheme of
 * Jitsi and LiveKit:
 *
 * - Opus: the TOC byte (1 byte);
 * - VP8: the uncompressed data chunk — 10 bytes on keyframes (frame tag, start code, width and
 *   height), 3 on delta frames. Bit 0 of the first byte is 0 on keyframes (RFC 6386 §9.1).
 *
 * On the wire a frame is `clear prefix ‖ SFrame header ‖ ciphertext ‖ tag`.
 */

import type { MediaKind } from "./protocol";

export const OPUS_CLEAR = 1;
export const VP8_KEY_CLEAR = 10;
export const VP8_DELTA_CLEAR = 3;

/** Whether a VP8 frame starting with `first` is a keyframe. */
export function vp8IsKeyframe(first: number): boolean {
  return (first & 1) === 0;
}

/**
 * Length of the clear prefix of `frame`, or -1 if the frame is shorter than its clear prefix
 * (an encrypted frame must also be longer than it: the receiver checks that). `mimeType` (from the frame's metadata, when the browser gives it)
 * guards against a codec other than the negotiated Opus/VP8; other codecs get no clear prefix.
 */
export function clearPrefixLength(kind: MediaKind, frame: Uint8Array, mimeType?: string): number {
  if (frame.length === 0) return -1;
  let n: number;
  const mime = mimeType?.toLowerCase();
  if (kind === "audio") {
    n = mime === undefined || mime === "audio/opus" ? OPUS_CLEAR : 0;
  } else if (mime === undefined || mime === "video/vp8") {
    n = vp8IsKeyframe(frame[0]!) ? VP8_KEY_CLEAR : VP8_DELTA_CLEAR;
  } else {
    n = 0;
  }
  return frame.length >= n ? n : -1;
}

/** `clear ‖ rest` in one fresh buffer. */
export function join(clear: Uint8Array, rest: Uint8Array): ArrayBuffer {
  const out = new Uint8Array(clear.length + rest.length);
  out.set(clear, 0);
  out.set(rest, clear.length);
  return out.buffer;
}
