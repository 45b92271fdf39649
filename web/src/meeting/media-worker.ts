/**
 * The media worker: SFrame encryption and decryption of every encoded audio and video frame
 * of a meeting (RFC 9605, keys from the room's MLS group).
 *
 * It owns the meeting's only `TingMediaKeys`. Epochs come straight from the crypto worker over
 * the `MessagePort` the view transfers in (`{type: "keys"}`); their bytes are installed and
 * zeroed here and never leave this worker. The previous epoch keeps decrypting for the grace
 * window, so frames in flight during a rekey still play.
 *
 * Frames reach it as `RTCRtpScriptTransform` transformers (`rtctransform` events) or, where
 * only the older API exists, as `createEncodedStreams()` pairs (`{type: "streams"}`). Each
 * outgoing frame becomes `clear codec header ‖ SFrame ciphertext` (see `sframe-layout.ts`);
 * a frame that cannot be encrypted is dropped, never sent in the clear. An incoming frame that
 * does not decrypt is dropped and counted; the counters (no keys) go to the view twice a second.
 */

import init, { TingMediaKeys } from "../../pkg/ting_web.js";
import type { MediaKeyMessage } from "./host";
import type { FromWorker, StreamCounters, ToWorker, TransformOptions } from "./protocol";
import { clearPrefixLength, join } from "./sframe-layout";

interface Transformer {
  readonly options: TransformOptions;
  readonly readable: ReadableStream;
  readonly writable: WritableStream;
  sendKeyFrameRequest?(): Promise<void>;
}

interface EncodedFrame {
  data: ArrayBuffer;
  getMetadata(): { mimeType?: string };
}

interface WorkerScope {
  postMessage(msg: FromWorker): void;
  addEventListener(type: "message", fn: (ev: MessageEvent<ToWorker>) => void): void;
  addEventListener(type: "rtctransform", fn: (ev: Event & { transformer: Transformer }) => void): void;
}

const scope = self as unknown as WorkerScope;
const STATS_INTERVAL_MS = 500;
const EXPIRE_INTERVAL_MS = 2000;
/** At most one keyframe request per receiver in this interval. */
const KEYFRAME_REQUEST_MS = 1000;

let keys: TingMediaKeys | null = null;
let haveEpoch = false;
let left = false;
const counters = new Map<string, StreamCounters>();
let dirty = false;

const ready: Promise<void> = init().then(
  () => {
    keys = new TingMediaKeys(undefined);
    scope.postMessage({ type: "ready" });
  },
  (e: unknown) => {
    scope.postMessage({ type: "error", message: `media crypto failed to load: ${String(e)}` });
    throw e;
  },
);

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "internal";
}

// --- keys -----------------------------------------------------------------------------------

let keyQueue: Promise<void> = Promise.resolve();

function onKeyMessage(msg: MediaKeyMessage): void {
  switch (msg.type) {
    case "epoch":
      keyQueue = keyQueue
        .then(() => ready)
        .then(() => {
          try {
            keys!.setEpoch(Date.now(), msg.bytes);
            haveEpoch = true;
            scope.postMessage({
              type: "epoch",
              epoch: keys!.currentEpoch ?? msg.epoch,
              fingerprint: keys!.keyFingerprint ?? null,
            });
          } catch (e) {
            scope.postMessage({ type: "error", message: `epoch ${msg.epoch}: ${errorCode(e)}` });
          } finally {
            msg.bytes.fill(0);
          }
        });
      break;
    case "members":
      scope.postMessage({ type: "members", members: msg.members });
      break;
    case "left":
      left = true;
      scope.postMessage({ type: "left" });
      break;
  }
}

// --- transforms -----------------------------------------------------------------------------

function newCounters(o: TransformOptions): StreamCounters {
  const c: StreamCounters = {
    id: o.id,
    side: o.side,
    kind: o.kind,
    ok: 0,
    failed: 0,
    replayed: 0,
    noKey: 0,
    lastOkAt: 0,
    lastFailedAt: 0,
    lastError: null,
    senderLeaf: null,
    epoch: null,
    sframeStream: null,
  };
  counters.set(o.id, c);
  return c;
}

function fail(c: StreamCounters, code: string): void {
  c.failed++;
  c.lastFailedAt = Date.now();
  c.lastError = code;
  dirty = true;
}

function encrypt(o: TransformOptions, c: StreamCounters, frame: EncodedFrame): boolean {
  const data = new Uint8Array(frame.data);
  if (data.length === 0) return true; // an empty frame carries nothing to protect
  if (!keys || !haveEpoch || left) {
    c.noKey++;
    dirty = true;
    return false;
  }
  const n = clearPrefixLength(o.kind, data, frame.getMetadata().mimeType);
  if (n < 0) {
    fail(c, "malformed");
    return false;
  }
  try {
    const clear = data.subarray(0, n);
    frame.data = join(clear, keys.encryptFrame(o.stream ?? 0, clear, data.subarray(n)));
  } catch (e) {
    fail(c, errorCode(e));
    return false;
  }
  c.ok++;
  c.lastOkAt = Date.now();
  dirty = true;
  return true;
}

function decrypt(o: TransformOptions, c: StreamCounters, frame: EncodedFrame): boolean {
  const data = new Uint8Array(frame.data);
  if (data.length === 0) return true;
  if (!keys || !haveEpoch) {
    c.noKey++;
    dirty = true;
    return false;
  }
  const n = clearPrefixLength(o.kind, data, frame.getMetadata().mimeType);
  if (n < 0 || data.length <= n) {
    fail(c, "malformed");
    return false;
  }
  const now = Date.now();
  try {
    const clear = data.subarray(0, n);
    const d = keys.decryptFrame(now, clear, data.subarray(n));
    frame.data = join(clear, d.payload);
    c.senderLeaf = d.senderLeaf;
    c.epoch = d.epoch;
    c.sframeStream = d.context & 0xf;
  } catch (e) {
    const code = errorCode(e);
    if (code === "replayed") {
      c.replayed++;
      dirty = true;
    } else {
      fail(c, code);
    }
    return false;
  }
  c.ok++;
  c.lastOkAt = now;
  dirty = true;
  return true;
}

function run(o: TransformOptions, readable: ReadableStream, writable: WritableStream, t?: Transformer): void {
  const c = newCounters(o);
  let lastKeyframeRequest = 0;
  const transform = new TransformStream<EncodedFrame, EncodedFrame>({
    async transform(frame, controller) {
      if (!keys) await ready;
      if (o.side === "send") {
        if (encrypt(o, c, frame)) controller.enqueue(frame);
        return;
      }
      const recovering = c.lastFailedAt > c.lastOkAt;
      if (!decrypt(o, c, frame)) return;
      controller.enqueue(frame);
      // The decoder missed frames: ask the sender for a fresh keyframe to resume quickly.
      const now = Date.now();
      if (recovering && o.kind === "video" && t?.sendKeyFrameRequest && now - lastKeyframeRequest > KEYFRAME_REQUEST_MS) {
        lastKeyframeRequest = now;
        t.sendKeyFrameRequest().catch(() => undefined);
      }
    },
  });
  readable
    .pipeThrough(transform)
    .pipeTo(writable)
    .catch(() => undefined);
}

scope.addEventListener("rtctransform", (ev) => {
  const t = ev.transformer;
  run(t.options, t.readable, t.writable, t);
});

scope.addEventListener("message", (ev) => {
  const msg = ev.data;
  switch (msg.type) {
    case "keys":
      msg.port.onmessage = (e: MessageEvent<MediaKeyMessage>) => onKeyMessage(e.data);
      msg.port.start();
      break;
    case "streams": {
      const { readable, writable, type: _type, ...options } = msg;
      run(options, readable, writable);
      break;
    }
    case "forget":
      counters.delete(msg.id);
      dirty = true;
      break;
  }
});

setInterval(() => {
  if (!dirty) return;
  dirty = false;
  scope.postMessage({ type: "stats", streams: [...counters.values()] });
}, STATS_INTERVAL_MS);

setInterval(() => {
  if (keys && haveEpoch) keys.expire(Date.now());
}, EXPIRE_INTERVAL_MS);
