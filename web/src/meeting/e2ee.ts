/**
 * Main-thread side of meeting encryption: starts the media worker, hands it the key port and
 * puts an encoded transform on every sender and receiver. It sees only what the worker reports
 * (epoch numbers, membership, counters), never a key.
 */

import type { MeetingMember } from "./host";
import type { FromWorker, MediaKind, StreamCounters, ToWorker, TransformOptions } from "./protocol";

/** Which encoded-transform API the browser offers. */
export type TransformMode = "script" | "streams";

interface EncodedStreams {
  readable: ReadableStream;
  writable: WritableStream;
}
type WithEncodedStreams = { createEncodedStreams?: () => EncodedStreams };
type WithTransform = { transform: unknown };

/** `RTCRtpScriptTransform` where it exists (Chromium, Safari, Firefox), else Chromium's older API. */
export function transformMode(): TransformMode | null {
  if (typeof (globalThis as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform === "function") {
    return "script";
  }
  const proto = (globalThis as { RTCRtpSender?: { prototype: object } }).RTCRtpSender?.prototype;
  if (proto && "createEncodedStreams" in proto) return "streams";
  return null;
}

export interface E2eeEvents {
  epoch(epoch: number, fingerprint: string | null): void;
  members(members: MeetingMember[]): void;
  left(): void;
  stats(streams: StreamCounters[]): void;
  error(message: string): void;
}

export class MediaE2ee {
  readonly mode: TransformMode;
  private readonly worker: Worker;
  private next = 0;

  constructor(mode: TransformMode, private readonly events: E2eeEvents) {
    this.mode = mode;
    this.worker = new Worker(new URL("./media-worker.ts", import.meta.url), { type: "module" });
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.onMessage(ev.data);
    this.worker.onerror = (ev) => events.error(ev.message || "media worker failed");
  }

  /** Hands the crypto worker's key port to the media worker. */
  attachKeys(port: MessagePort): void {
    this.post({ type: "keys", port }, [port]);
  }

  /** Encrypts everything `sender` sends as SFrame `stream`. Returns the transform's id. */
  protectSender(sender: RTCRtpSender, kind: MediaKind, stream: number): string {
    const id = `s${++this.next}`;
    this.attach(sender, { id, side: "send", kind, stream });
    return id;
  }

  /** Decrypts everything `receiver` receives. Returns the transform's id. */
  protectReceiver(receiver: RTCRtpReceiver, kind: MediaKind): string {
    const id = `r${++this.next}`;
    this.attach(receiver, { id, side: "recv", kind });
    return id;
  }

  /** Drops a finished transform's counters. */
  forget(id: string): void {
    this.post({ type: "forget", id });
  }

  close(): void {
    this.worker.terminate();
  }

  private attach(target: RTCRtpSender | RTCRtpReceiver, options: TransformOptions): void {
    if (this.mode === "script") {
      (target as unknown as WithTransform).transform = new RTCRtpScriptTransform(this.worker, options);
      return;
    }
    const create = (target as unknown as WithEncodedStreams).createEncodedStreams;
    if (!create) throw new Error("encoded transforms unavailable");
    const { readable, writable } = create.call(target);
    this.post({ type: "streams", ...options, readable, writable }, [
      readable as unknown as Transferable,
      writable as unknown as Transferable,
    ]);
  }

  private post(msg: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case "ready":
        break;
      case "epoch":
        this.events.epoch(msg.epoch, msg.fingerprint);
        break;
      case "members":
        this.events.members(msg.members);
        break;
      case "left":
        this.events.left();
        break;
      case "stats":
        this.events.stats(msg.streams);
        break;
      case "error":
        this.events.error(msg.message);
        break;
    }
  }
}
