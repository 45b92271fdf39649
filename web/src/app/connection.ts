/**
 * The WebSocket event stream (`/api/v1/ws`, ting-proto `ws.rs`): first-frame auth, events to
 * the crypto worker in order, `ack` after the worker saved what it processed, automatic
 * reconnect with backoff. After each (re)connect the app catches up over REST as well.
 */

export type ServerEvent = { type: string; [k: string]: unknown };

export interface ConnectionDeps {
  /** The session token, or null when signed out. */
  token(): Promise<string | null>;
  /** Processes an event; resolves with the ack to send, if any. */
  process(ev: ServerEvent): Promise<{ room_id: string; seq: number } | null>;
  /** Called after each successful (re)connect (hello). */
  connected(): void;
  /** The server ended the session (close 4001/4003, with its reason). */
  sessionEnded(code: number, reason: string): void;
}

const MAX_BACKOFF_MS = 30_000;

export class Connection {
  private ws: WebSocket | null = null;
  private up = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private chain: Promise<void> = Promise.resolve();
  private eventListeners = new Set<(ev: ServerEvent) => void>();
  private stateListeners = new Set<(up: boolean) => void>();

  constructor(private deps: ConnectionDeps) {
    addEventListener("online", () => this.reconnectNow());
  }

  get connected(): boolean {
    return this.up;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.setUp(false);
  }

  /** Sends a client message (ignored while disconnected). */
  send(msg: Record<string, unknown>): boolean {
    if (!this.up || !this.ws) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  onEvent(fn: (ev: ServerEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  onState(fn: (up: boolean) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  reconnectNow(): void {
    if (this.stopped || this.up) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    this.open();
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    for (const fn of this.stateListeners) fn(up);
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const token = await this.deps.token().catch(() => null);
    if (!token || this.stopped) return;
    const url = new URL("/api/v1/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
    ws.onmessage = (msg) => {
      if (typeof msg.data !== "string") return;
      let ev: ServerEvent;
      try {
        ev = JSON.parse(msg.data) as ServerEvent;
      } catch {
        return;
      }
      if (ev.type === "hello") {
        this.attempt = 0;
        this.setUp(true);
        this.deps.connected();
      }
      for (const fn of this.eventListeners) fn(ev);
      if (["message", "welcome", "key_packages_low", "device_added", "device_revoked", "key_log_appended"].includes(ev.type)) {
        // One at a time, in arrival order; ack only after the worker saved the result.
        this.chain = this.chain.then(async () => {
          try {
            const ack = await this.deps.process(ev);
            if (ack && this.ws === ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ack", ...ack }));
          } catch (err) {
            console.warn("event not processed; it will be delivered again", err);
          }
        });
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setUp(false);
      if (ev.code === 4001 || ev.code === 4003) {
        this.deps.sessionEnded(ev.code, ev.reason);
        // Reconnect slowly in case the session is still valid (e.g. a server restart).
      }
      this.schedule();
    };
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt = Math.min(this.attempt + 1, 6);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.open();
    }, delay);
  }
}
