/**
 * The UI's state on the main thread: the session, the room list, the connection and uploads.
 * Everything else (keys, history) lives in the crypto worker and is fetched as views.
 */
import { useEffect, useState } from "preact/hooks";
import { CallError, CryptoClient } from "../crypto/rpc";
import type { RoomSummary, Session, UploadProgress, WorkerNotice } from "../crypto/types";
import { Connection, type ServerEvent } from "./connection";
import { deviceName } from "./device-name";
import { t } from "../i18n";

export type Phase = "loading" | "locked" | "lockLost" | "signedOut" | "linking" | "ready" | "fatal";

export interface Toast {
  id: number;
  text: string;
  kind: "info" | "error";
}

export interface State {
  phase: Phase;
  session: Session | null;
  lastUsername: string | null;
  sessionNotice: "expired" | "revoked" | null;
  rooms: RoomSummary[];
  connected: boolean;
  /** The stream was up once since sign-in (the banner shows only after a loss). */
  everConnected: boolean;
  /** The first connection attempt has taken a while. */
  slowStart: boolean;
  uploads: UploadProgress[];
  toasts: Toast[];
  fatal: string | null;
  /** Why the server's key log was refused (shown across the app), or null. */
  keyLogAlarm: string | null;
}

type Listener = () => void;

class Store {
  state: State = {
    phase: "loading",
    session: null,
    lastUsername: null,
    sessionNotice: null,
    rooms: [],
    connected: false,
    everConnected: false,
    slowStart: false,
    uploads: [],
    toasts: [],
    fatal: null,
    keyLogAlarm: null,
  };
  private listeners = new Set<Listener>();
  private roomListeners = new Set<(rooms: string[]) => void>();
  readonly crypto: CryptoClient;
  readonly conn: Connection;
  /** Files of uploads in progress or failed (for "try again"). */
  readonly uploadFiles = new Map<string, File>();
  private refreshQueued = false;
  private toastId = 0;

  constructor() {
    const worker = new Worker(new URL("../crypto/worker.ts", import.meta.url), { type: "module", name: "ting-crypto" });
    this.crypto = new CryptoClient(worker);
    this.crypto.onNotice((n) => this.notice(n));
    this.conn = new Connection({
      token: () => this.crypto.call("wsToken"),
      process: async (ev: ServerEvent) => (await this.crypto.call("handleEvent", ev)).ack,
      connected: () => {
        this.set({ connected: true, everConnected: true, slowStart: false });
        void this.catchUp();
      },
      sessionEnded: (code, reason) => {
        if (code === 4003 && /revoked/i.test(reason)) void this.endSession("revoked");
        else void this.checkSession();
      },
    });
    this.conn.onState((up) => this.set({ connected: up }));
  }

  set(patch: Partial<State>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Rooms whose timeline changed (from the worker). */
  onRoomsChanged(fn: (rooms: string[]) => void): () => void {
    this.roomListeners.add(fn);
    return () => this.roomListeners.delete(fn);
  }

  toast(text: string, kind: Toast["kind"] = "info"): void {
    const id = ++this.toastId;
    this.set({ toasts: [...this.state.toasts, { id, text, kind }] });
    setTimeout(() => this.set({ toasts: this.state.toasts.filter((x) => x.id !== id) }), kind === "error" ? 8000 : 4000);
  }

  private notice(n: WorkerNotice): void {
    switch (n.type) {
      case "changed":
        for (const l of this.roomListeners) l(n.rooms);
        this.queueRefresh();
        break;
      case "upload": {
        const others = this.state.uploads.filter((u) => u.uploadId !== n.progress.uploadId);
        const uploads = n.progress.state === "done" ? others : [...others, n.progress];
        if (n.progress.state === "done") this.uploadFiles.delete(n.progress.uploadId);
        this.set({ uploads });
        break;
      }
      case "sessionEnded":
        void this.endSession(n.reason);
        break;
      case "lockLost":
        this.conn.stop();
        this.set({ phase: "lockLost" });
        break;
      case "keyLogAlarm":
        this.set({ keyLogAlarm: n.why });
        break;
      case "deviceLinked":
        this.toast(t("link.device_linked", { name: n.name }));
        break;
    }
  }

  private queueRefresh(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    setTimeout(() => {
      this.refreshQueued = false;
      void this.refreshRooms();
    }, 30);
  }

  async refreshRooms(): Promise<void> {
    if (this.state.phase !== "ready") return;
    try {
      this.set({ rooms: await this.crypto.call("rooms") });
    } catch (err) {
      console.warn("rooms", err);
    }
  }

  async boot(steal = false): Promise<void> {
    try {
      const r = await this.crypto.call("boot", steal);
      if (r.state === "locked") this.set({ phase: "locked" });
      else if (r.state === "signedOut") this.set({ phase: "signedOut", lastUsername: r.username });
      else await this.enter(r.session);
    } catch (err) {
      this.set({ phase: "fatal", fatal: err instanceof CallError ? err.code : "worker" });
    }
  }

  /** Enters the app, or the linking screen while this device has no certificate. */
  async enter(session: Session): Promise<void> {
    if (!session.certified) {
      this.conn.stop();
      this.set({ phase: "linking", session, sessionNotice: null });
      return;
    }
    this.set({ phase: "ready", session, sessionNotice: null, everConnected: false, slowStart: false, keyLogAlarm: session.keyLogAlarm ?? null });
    await this.refreshRooms();
    this.conn.start();
    setTimeout(() => {
      if (!this.state.connected && this.state.phase === "ready") this.set({ slowStart: true });
    }, 4000);
  }

  async login(username: string, password: string): Promise<void> {
    const session = await this.crypto.call("login", username, password, deviceName());
    await this.enter(session);
  }

  async logout(everywhere: boolean): Promise<void> {
    await this.crypto.call("logout", everywhere);
    this.conn.stop();
    this.uploadFiles.clear();
    this.set({ phase: "signedOut", session: null, rooms: [], uploads: [], lastUsername: null, sessionNotice: null, keyLogAlarm: null });
    location.hash = "#/";
  }

  private async catchUp(): Promise<void> {
    try {
      await this.crypto.call("sync");
    } catch (err) {
      console.warn("catch-up failed; the stream keeps delivering", err);
    }
    await this.refreshRooms();
  }

  private async checkSession(): Promise<void> {
    try {
      if (!(await this.crypto.call("checkSession"))) await this.endSession("expired");
    } catch {
      /* offline: the connection retries */
    }
  }

  private async endSession(reason: "expired" | "revoked"): Promise<void> {
    this.conn.stop();
    if (reason === "revoked") {
      await this.crypto.call("logout", false).catch(() => undefined);
      this.set({ phase: "signedOut", session: null, rooms: [], lastUsername: null, sessionNotice: reason });
    } else {
      this.set({ phase: "signedOut", lastUsername: this.state.session?.username ?? null, session: null, rooms: [], sessionNotice: reason });
    }
  }

  async upload(roomId: string, file: File): Promise<void> {
    const uploadId = crypto.randomUUID();
    this.uploadFiles.set(uploadId, file);
    this.set({ uploads: [...this.state.uploads, { uploadId, roomId, name: file.name, sent: 0, total: file.size, state: "uploading", error: null }] });
    await this.crypto.call("sendFile", roomId, file, uploadId).catch(() => undefined);
  }

  async retryUpload(uploadId: string): Promise<void> {
    const file = this.uploadFiles.get(uploadId);
    const up = this.state.uploads.find((u) => u.uploadId === uploadId);
    this.dismissUpload(uploadId);
    if (file && up) await this.upload(up.roomId, file);
  }

  dismissUpload(uploadId: string): void {
    this.uploadFiles.delete(uploadId);
    this.set({ uploads: this.state.uploads.filter((u) => u.uploadId !== uploadId) });
  }
}

export const store = new Store();

/** Re-renders the component when the selected part of the state changes. */
export function useStore<T>(select: (s: State) => T): T {
  const [value, setValue] = useState(() => select(store.state));
  useEffect(() => {
    const update = () => setValue(() => select(store.state));
    update();
    return store.subscribe(update);
  }, []);
  return value;
}
