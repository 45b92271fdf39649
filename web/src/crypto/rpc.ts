/**
 * The typed RPC between the UI (main thread) and the crypto worker. The UI calls
 * `crypto.call("method", ...args)`; the worker answers with the result or a `{code, message}`
 * error; the worker also posts `WorkerNotice`s (changes, upload progress, session end).
 */
import type {
  DeviceView,
  EventOutcome,
  FileRef,
  LinkApproval,
  LinkStart,
  MeetingMember,
  MemberInfo,
  OutgoingBody,
  RoomSummary,
  SafetyView,
  Session,
  Timeline,
  WorkerNotice,
} from "./types";

export type BootResult =
  | { state: "ready"; session: Session }
  | { state: "signedOut"; username: string | null }
  | { state: "locked" };

/** Every call the worker answers. */
export interface WorkerApi {
  boot(steal: boolean): BootResult;
  login(username: string, password: string, deviceName: string): Session;
  /** New device: opens a link rendezvous; the code to show. */
  linkStart(): LinkStart;
  /** New device: the session once linked. */
  linkPoll(): "waiting" | "expired" | Session;
  /** Existing device: checks a typed link code against the request it names. */
  linkPreview(code: string): LinkApproval;
  /** Existing device: certifies the new device (after the user confirmed). */
  linkApprove(code: string): void;
  /** A device that cannot be linked (every other device lost): a new identity. */
  resetIdentity(): Session;
  /** Accepts a contact's new identity key after checking it. */
  acceptIdentity(username: string): void;
  logout(everywhere: boolean): void;
  /** Checks the session with the server; false if it ended. */
  checkSession(): boolean;
  wsToken(): string | null;
  sync(): void;
  handleEvent(ev: { type: string; [k: string]: unknown }): EventOutcome;
  setActiveRoom(roomId: string | null): void;
  rooms(): RoomSummary[];
  timeline(roomId: string, limit: number): Timeline;
  markRead(roomId: string): void;
  createRoom(name: string, invite: string[]): { roomId: string; failed: { username: string; code: string }[] };
  rename(roomId: string, name: string): void;
  invite(roomId: string, username: string): void;
  removeUser(roomId: string, username: string): void;
  leave(roomId: string): void;
  send(roomId: string, body: OutgoingBody): void;
  retry(roomId: string, localId: string): void;
  discard(roomId: string, localId: string): void;
  sendFile(roomId: string, file: File, uploadId: string): void;
  fetchFile(file: FileRef): Blob;
  members(roomId: string): MemberInfo[];
  safetyNumber(roomId: string, username: string): SafetyView;
  setVerified(roomId: string, username: string, verified: boolean): void;
  devices(): DeviceView[];
  revokeDevice(deviceId: string): void;
  maxFileBytes(): number;
  meetingMembers(roomId: string): MeetingMember[];
  mediaKeyPort(roomId: string): MessagePort;
  releaseMediaPorts(roomId: string): void;
  version(): string;
}

export type Method = keyof WorkerApi;

export interface Request {
  id: number;
  method: Method;
  args: unknown[];
}

export type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { code: string; message: string; retryAfter?: number | null } };

export type FromWorker = Reply | { notice: WorkerNotice };

/** A failed call, as the UI sees it. `code` is a server error code or a local one. */
export class CallError extends Error {
  override name = "CallError";
  constructor(
    public code: string,
    message: string,
    public retryAfter: number | null = null,
  ) {
    super(message);
  }
}

type Result<M extends Method> = Awaited<ReturnType<WorkerApi[M]>>;

/** The main thread's end of the RPC. */
export class CryptoClient {
  private next = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private listeners = new Set<(n: WorkerNotice) => void>();

  constructor(private worker: Worker) {
    worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      const data = ev.data;
      if ("notice" in data) {
        for (const l of this.listeners) l(data.notice);
        return;
      }
      const p = this.pending.get(data.id);
      if (!p) return;
      this.pending.delete(data.id);
      if (data.ok) p.resolve(data.value);
      else p.reject(new CallError(data.error.code, data.error.message, data.error.retryAfter ?? null));
    };
    worker.onerror = (ev) => {
      console.error("crypto worker failed", ev.message);
      for (const p of this.pending.values()) p.reject(new CallError("worker", ev.message || "the crypto worker stopped"));
      this.pending.clear();
    };
  }

  call<M extends Method>(method: M, ...args: Parameters<WorkerApi[M]>): Promise<Result<M>> {
    const id = this.next++;
    return new Promise<Result<M>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const msg: Request = { id, method, args };
      this.worker.postMessage(msg);
    });
  }

  onNotice(fn: (n: WorkerNotice) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
