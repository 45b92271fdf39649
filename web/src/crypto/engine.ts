/**
 * The device: ting-web's `TingClient`, the API connection and the local state together — the
 * browser counterpart of ting-client's `Device` (device.rs, sync.rs). Runs only in the crypto
 * worker. Every state change is saved before the server is told it was processed (ack), and
 * the client is saved after every call that changes it (decrypting advances ratchets too).
 */
import { TingClient, type IdentityAlert, type Received } from "../../pkg/ting_web";
import { Api, ApiError, type WireMessage, type WireWelcome } from "./api";
import { b64decode, b64ToHex, groupId, hexDecode, sameBytes } from "./bytes";
import { KeyLog } from "./keylog";
import { LocalStore } from "./store";
import { applyEnvelope, insertOrdered, newRoom, touch, type AppState, type RoomLocal } from "./state";
import type { Entry, RoomIdentity, Session, WorkerNotice } from "./types";

/** One-time KeyPackages kept published (as ting-client). */
export const KEY_PACKAGE_STOCK = 50;
const PAGE = 500;

export class Failure extends Error {
  override name = "Failure";
  constructor(public code: string, message = code) {
    super(message);
  }
}

export function normaliseUsername(raw: string): string {
  return raw.trim().toLowerCase();
}

export class Engine {
  client: TingClient | null = null;
  app: AppState | null = null;
  api = new Api();
  histories = new Map<string, Entry[]>();
  /** Device id → (username, hex key), the server's word, checked against MLS senders. */
  deviceKeys = new Map<string, { username: string; key: string }>();
  activeRoom: string | null = null;
  /** The key log as this device checks it (pinned key, newest accepted checkpoint). */
  readonly keyLog = new KeyLog(this);
  /** Called after each change of a room's MLS epoch or membership (media key ports). */
  onEpoch: (roomId: string, left: boolean) => void = () => {};
  private dirty = new Set<string>();
  private changed = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  /** Null after sign-out until the next sign-in creates new keys. */
  private store: LocalStore | null;

  constructor(store: LocalStore, private notify: (n: WorkerNotice) => void) {
    this.store = store;
  }

  private async localStore(): Promise<LocalStore> {
    if (!this.store) this.store = await LocalStore.open();
    return this.store;
  }

  /** Runs `fn` after every operation queued before it: one state owner, one change at a time. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Restores the saved device, if any. Returns the session if it is still signed in. */
  async boot(): Promise<Session | null> {
    const store = await this.localStore();
    const blob = await store.loadClient();
    const app = await store.loadRecord<AppState>("app");
    if (blob && app) {
      try {
        this.client = TingClient.load(blob, store.storageKey);
        this.app = app;
        this.keyLog.applyPosition();
        for (const id of Object.keys(app.rooms)) {
          this.histories.set(id, (await store.loadRecord<Entry[]>(`history:${id}`)) ?? []);
        }
      } catch (e) {
        console.error("local state unreadable; starting over", e);
        this.client = null;
        this.app = null;
      }
    }
    if (this.app?.token) {
      this.api.token = this.app.token;
      return this.session();
    }
    return null;
  }

  session(): Session {
    const { app, client } = this.need();
    return {
      username: app.username,
      userId: app.userId,
      deviceId: app.deviceId,
      deviceKey: client.deviceKey,
      isAdmin: app.isAdmin,
      certified: client.certified,
      keyLogAlarm: app.keyLogAlarm ?? null,
    };
  }

  /** Tells the UI the server's key log was refused (see keylog.ts). */
  keyLogAlarm(why: string): void {
    this.notify({ type: "keyLogAlarm", why });
  }

  /** Set by identity.ts: identity changes among the room's members, and who blocks sending. */
  roomIdentity: (roomId: string) => RoomIdentity = () => ({ changed: [], blocked: [], ownReset: false });
  /** Set by identity.ts: records identity alerts of a welcome or commit. */
  noteAlerts: (roomId: string, alerts: IdentityAlert[]) => void = () => {};
  /** Set by identity.ts: creates the identity on a first device (see `Identity.establish`). */
  establishIdentity: () => Promise<boolean> = async () => this.need().client.certified;

  need(): { app: AppState; client: TingClient } {
    if (!this.app || !this.client) throw new Failure("signed_out", "not signed in");
    return { app: this.app, client: this.client };
  }

  room(id: string): RoomLocal {
    const { app } = this.need();
    let r = app.rooms[id];
    if (!r) {
      r = newRoom();
      app.rooms[id] = r;
      this.histories.set(id, []);
      this.dirty.add(id);
    }
    return r;
  }

  history(id: string): Entry[] {
    let h = this.histories.get(id);
    if (!h) {
      h = [];
      this.histories.set(id, h);
    }
    return h;
  }

  /** Marks a room's history for saving and its views for refreshing. */
  touched(id: string): void {
    this.dirty.add(id);
    this.changed.add(id);
  }

  /** Saves the client and what changed, then tells the UI. */
  async persist(): Promise<void> {
    const { app, client } = this.need();
    const records: Record<string, unknown> = { app };
    for (const id of this.dirty) records[`history:${id}`] = this.history(id);
    this.dirty.clear();
    const store = await this.localStore();
    await store.save(client.save(store.storageKey), records);
    if (this.changed.size) {
      this.notify({ type: "changed", rooms: [...this.changed] });
      this.changed.clear();
    }
  }

  // ---- session --------------------------------------------------------------------------

  async login(rawUsername: string, password: string, deviceName: string): Promise<Session> {
    const username = normaliseUsername(rawUsername);
    if (!this.client || this.app?.username !== username) await this.reset();
    for (let attempt = 0; ; attempt++) {
      const client = this.client ?? new TingClient(username, undefined);
      this.client = client;
      try {
        const api = new Api();
        const resp = await api.login(username, password, deviceName, hexDecode(client.deviceKey));
        const prev = this.app;
        this.app = {
          version: 1,
          username,
          userId: resp.user.id,
          deviceId: resp.device.id,
          token: resp.token,
          isAdmin: resp.user.is_admin,
          rooms: prev?.username === username ? prev.rooms : {},
          verified: prev?.username === username ? prev.verified : {},
          // The pinned log key and the last accepted checkpoint outlive sessions.
          keyLog: prev?.username === username ? prev.keyLog ?? null : null,
          keyLogAlarm: prev?.username === username ? prev.keyLogAlarm ?? null : null,
        };
        this.api.token = resp.token;
        break;
      } catch (e) {
        // This browser's device was revoked: forget it and register as a new device.
        if (e instanceof ApiError && e.code === "device_revoked" && attempt === 0) {
          await this.reset();
          continue;
        }
        throw e;
      }
    }
    for (const r of Object.values(this.app.rooms)) r.outbox.forEach((o) => (o.status = "failed"));
    await this.persist();
    // A first device creates the user's identity; a later one waits to be linked.
    if (await this.establishIdentity()) await this.replenishKeyPackages().catch((e) => console.warn("key packages", e));
    return this.session();
  }

  /** Forgets everything local (new keys, no history). */
  async reset(): Promise<void> {
    this.client?.free();
    this.client = null;
    this.app = null;
    this.histories.clear();
    this.deviceKeys.clear();
    this.dirty.clear();
    await (await this.localStore()).wipe();
    this.store = null;
  }

  /** Signs out (this device or all of the user's sessions) and deletes the local state. */
  async logout(everywhere: boolean): Promise<void> {
    try {
      if (everywhere) await this.api.logoutAll();
      else await this.api.logout();
    } catch (e) {
      if (!(e instanceof ApiError) || e.code === "network") throw e;
    }
    this.api.token = null;
    await this.reset();
  }

  /** The session ended on the server (expired or revoked): keep keys, drop the token. */
  async sessionEnded(): Promise<void> {
    if (this.app) {
      this.app.token = null;
      this.api.token = null;
      await this.persist();
    }
  }

  async replenishKeyPackages(): Promise<void> {
    const { client } = this.need();
    if (!client.certified) return; // linked or reset first
    const count = await this.api.keyPackageCount();
    const missing = Math.max(0, KEY_PACKAGE_STOCK - count.available);
    if (missing === 0 && count.has_last_resort) return;
    const oneTime = missing > 0 ? client.keyPackages(missing) : [];
    const lastResort = count.has_last_resort ? null : client.lastResortKeyPackage();
    await this.persist(); // the private halves must survive before the public ones are published
    await this.api.uploadKeyPackages(oneTime, lastResort);
  }

  // ---- catching up ----------------------------------------------------------------------

  /** Pending Welcomes, then every room's new messages (ting-client `sync`). */
  async sync(): Promise<void> {
    const { app } = this.need();
    await this.handleWelcomes();
    const listed = (await this.api.rooms()).map((r) => r.id);
    const all = new Set([...listed, ...Object.keys(app.rooms).filter((id) => !app.rooms[id]!.removed)]);
    for (const id of all) {
      try {
        await this.syncRoom(id);
      } catch (e) {
        if (e instanceof ApiError && e.code === "unknown_room") {
          const r = app.rooms[id];
          if (r && !r.removed) {
            r.removed = true;
            this.touched(id);
            this.onEpoch(id, true);
          }
          await this.persist();
        } else {
          throw e;
        }
      }
    }
  }

  async handleWelcomes(): Promise<void> {
    for (const w of await this.api.welcomes()) {
      try {
        await this.handleWelcome(w);
      } catch (e) {
        console.warn("welcome refused", e);
        if (!(e instanceof ApiError)) await this.api.deleteWelcome(w.room_id).catch(() => undefined);
      }
    }
  }

  /** Joins a room from a Welcome addressed to this device. */
  async handleWelcome(w: WireWelcome): Promise<void> {
    const { client } = this.need();
    const gid = groupId(w.room_id);
    if (client.hasGroup(gid)) {
      await this.api.deleteWelcome(w.room_id).catch(() => undefined);
      return;
    }
    const joined = client.join(b64decode(w.payload));
    if (!sameBytes(joined.groupId, gid)) {
      client.deleteGroup(joined.groupId);
      await this.persist();
      throw new Failure("verification", "a welcome for another group than its room");
    }
    const room = this.room(w.room_id);
    this.noteAlerts(w.room_id, joined.alerts);
    room.processedSeq = Math.max(room.processedSeq, w.commit_seq);
    room.removed = false;
    room.ownSeqs = [];
    const entry: Entry = {
      seq: w.commit_seq,
      sender: joined.addedBy.userId,
      senderDevice: "",
      at: Math.floor(Date.now() / 1000),
      own: false,
      item: { kind: "joined", by: joined.addedBy.userId },
    };
    insertOrdered(this.history(w.room_id), entry);
    touch(room, entry, true);
    this.touched(w.room_id);
    await this.persist();
    this.onEpoch(w.room_id, false);
    await this.api.deleteWelcome(w.room_id);
    await this.replenishKeyPackages().catch((e) => console.warn("key packages", e));
  }

  /** Processes a room's messages after the local position, in order, then acknowledges. */
  async syncRoom(id: string): Promise<void> {
    for (;;) {
      const after = this.room(id).processedSeq;
      const page = await this.api.messagesAfter(id, after, PAGE);
      const last = page.messages[page.messages.length - 1];
      if (!last) break;
      for (const m of page.messages) await this.processMessage(m);
      await this.persist();
      await this.api.ack(id, last.seq);
      if (!page.more) break;
    }
    if (this.room(id).pendingLeaves.length) await this.commitPendingLeaves(id);
  }

  /** Set by ops.ts (commits the self-remove proposals this device is to commit). */
  commitPendingLeaves: (roomId: string) => Promise<void> = async () => {};

  /** Processes one delivered message; idempotent. The caller saves and acknowledges. */
  async processMessage(m: WireMessage): Promise<void> {
    const { app, client } = this.need();
    const id = m.room_id;
    const room = this.room(id);
    if (m.seq <= room.processedSeq) return;
    const own = room.ownSeqs.indexOf(m.seq);
    if (own >= 0) {
      room.ownSeqs.splice(own, 1);
      room.processedSeq = m.seq;
      return;
    }
    const gid = groupId(id);
    const history = this.history(id);
    const undecryptable = (reason: "verification" | "decryption" | "not_member", detail: string) => {
      const entry: Entry = { seq: m.seq, sender: "", senderDevice: m.sender_device, at: m.created_at, own: false, item: { kind: "undecryptable", reason, detail } };
      insertOrdered(history, entry);
      touch(room, entry, false);
    };
    // Learn the sending device's key before decrypting: a network failure here leaves the
    // message unprocessed (retried later) instead of consuming it unverified.
    if (client.hasGroup(gid) && !this.deviceKeys.has(m.sender_device)) await this.learnMembers(id);
    let got: Received | null = null;
    if (!client.hasGroup(gid)) {
      // After leaving, the log still reaches this device up to the commit that removed it.
      if (!room.removed) undecryptable("not_member", "this device is not in the room's group");
    } else {
      try {
        got = client.handleMessage(gid, b64decode(m.payload), Date.now());
      } catch (e) {
        const code = (e as { code?: string }).code ?? "unknown";
        undecryptable("decryption", `${code}: ${(e as Error).message}`);
      }
    }
    if (got?.type === "message") {
      const problem = await this.verifySender(id, m.sender_device, got.sender.userId, got.sender.deviceKey);
      if (problem) {
        undecryptable("verification", problem);
      } else {
        applyEnvelope(room, history, m.seq, got.sender.userId, m.sender_device, m.created_at, got.envelope, got.sender.userId === app.username);
        // The sender's key log position must fit this device's view (else: a split view).
        if (got.logPosition) {
          const split = await this.keyLog.checkPeer(got.logPosition);
          if (split && room.splitView !== split) {
            room.splitView = split;
            this.touched(id);
          }
        }
      }
    } else if (got?.type === "commit") {
      const added = got.change.added.map((x) => x.userId);
      const removed = got.change.removed.map((x) => x.userId);
      if (added.length || removed.length) {
        const left = removed.filter((u) => room.leaving.includes(u));
        room.leaving = room.leaving.filter((u) => !left.includes(u));
        const entry: Entry = {
          seq: m.seq,
          sender: got.committer.userId,
          senderDevice: m.sender_device,
          at: m.created_at,
          own: got.committer.userId === app.username,
          item: { kind: "membership", added, removed: removed.filter((u) => !left.includes(u)), left },
        };
        insertOrdered(history, entry);
        touch(room, entry, true);
      }
      this.noteAlerts(id, got.alerts);
      if (got.removedSelf) room.removed = true;
      this.onEpoch(id, got.removedSelf);
    } else if (got?.type === "proposal") {
      this.noteLeave(id, got, m.sender_device);
    }
    if (this.activeRoom === id) room.unread = 0;
    room.processedSeq = m.seq;
    this.touched(id);
  }

  /** Notes a member's self-remove proposal; queues it if this device is to commit it. */
  private noteLeave(id: string, p: Extract<Received, { type: "proposal" }>, senderDevice: string): void {
    const { client } = this.need();
    if (p.proposal !== "remove" || !p.member || p.member.leafIndex !== p.sender.leafIndex) return;
    const room = this.room(id);
    if (!room.leaving.includes(p.sender.userId)) room.leaving.push(p.sender.userId);
    const gid = groupId(id);
    const leaves = client.members(gid).filter((x) => x.leafIndex !== p.sender.leafIndex).map((x) => x.leafIndex);
    if (leaves.length && Math.min(...leaves) === client.ownLeafIndex(gid)) room.pendingLeaves.push(senderDevice);
  }

  /**
   * Checks that the device the server names as sender is the one whose key signed the MLS
   * message and belongs to the user the credential names. Returns the problem, or null.
   */
  async verifySender(_room: string, device: string, mlsUser: string, mlsKey: string): Promise<string | null> {
    if (!this.deviceKeys.has(device)) {
      try {
        for (const d of (await this.api.userDevices(mlsUser)).devices) this.deviceKeys.set(d.id, { username: mlsUser, key: b64ToHex(d.signature_key) });
      } catch {
        /* unknown below */
      }
    }
    const known = this.deviceKeys.get(device);
    if (!known) return "the sending device is unknown (revoked?); its message cannot be verified";
    if (known.username !== mlsUser || known.key !== mlsKey) return "the server names a different sender than the one who signed this message";
    return null;
  }

  /** Records the device keys of a room's members (the server's word, checked against MLS). */
  async learnMembers(room: string): Promise<void> {
    try {
      for (const mm of await this.api.members(room)) this.deviceKeys.set(mm.device_id, { username: mm.username, key: b64ToHex(mm.signature_key) });
    } catch (err) {
      if (err instanceof ApiError && (err.code === "network" || err.code === "unavailable")) throw err;
    }
  }

  /** Whether `user`'s current fingerprint in the room's group is the one marked verified. */
  verification(gid: Uint8Array, user: string): "verified" | "unverified" | "changed" {
    const { app, client } = this.need();
    if (app.identityChanges?.[user] || client.pin(user)?.change) return "changed";
    const mark = app.verified[user];
    if (!mark) return "unverified";
    try {
      return client.userFingerprint(gid, user) === mark ? "verified" : "changed";
    } catch {
      return "unverified";
    }
  }
}
