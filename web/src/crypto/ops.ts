/**
 * What the user does: send (through a persisted outbox, so nothing typed is lost), create
 * rooms, invite, remove, leave — ting-client's device.rs / membership.rs / leave.rs.
 * Every commit is rebased on `stale_epoch`: drop it, catch up, build it again.
 */
import type { CommitBundle, Envelope, MembershipChange } from "../../pkg/ting_web";
import { ApiError } from "./api";
import { b64ToHex, groupId, randomHex, uuid } from "./bytes";
import { Engine, Failure, normaliseUsername } from "./engine";
import { applyEnvelope, insertOrdered, touch } from "./state";
import type { Entry, OutboxItem, OutgoingBody } from "./types";

/** Attempts at a send that keeps losing the epoch race. */
const MAX_RETRIES = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Ops {
  constructor(private e: Engine) {
    e.commitPendingLeaves = (id) => this.commitPendingLeaves(id);
  }

  // ---- messages -------------------------------------------------------------------------

  /** Queues a message in the room's outbox (saved), then tries to send it. */
  async send(roomId: string, body: OutgoingBody): Promise<void> {
    const item: OutboxItem = {
      localId: randomHex(8),
      envelopeId: randomHex(16),
      messageId: uuid(),
      body,
      status: "sending",
      error: null,
      createdAt: Math.floor(Date.now() / 1000),
    };
    this.e.room(roomId).outbox.push(item);
    this.e.touched(roomId);
    await this.e.persist();
    await this.deliver(roomId, item);
  }

  async retry(roomId: string, localId: string): Promise<void> {
    const item = this.e.room(roomId).outbox.find((o) => o.localId === localId);
    if (!item) return;
    item.status = "sending";
    item.error = null;
    this.e.touched(roomId);
    await this.e.persist();
    await this.deliver(roomId, item);
  }

  async discard(roomId: string, localId: string): Promise<void> {
    const room = this.e.room(roomId);
    room.outbox = room.outbox.filter((o) => o.localId !== localId);
    this.e.touched(roomId);
    await this.e.persist();
  }

  /** Retries every failed message (after reconnecting). */
  async retryAll(): Promise<void> {
    const { app } = this.e.need();
    for (const [id, room] of Object.entries(app.rooms)) {
      if (room.removed) continue;
      for (const item of [...room.outbox]) {
        if (item.status === "failed" && (item.error === "network" || item.error === "unavailable")) {
          await this.retry(id, item.localId).catch(() => undefined);
        }
      }
    }
  }

  private async deliver(roomId: string, item: OutboxItem): Promise<void> {
    const room = this.e.room(roomId);
    const fail = async (code: string) => {
      item.status = "failed";
      item.error = code;
      this.e.touched(roomId);
      await this.e.persist();
    };
    try {
      const seq = await this.sendEnvelope(roomId, { id: item.envelopeId, body: item.body }, item.messageId);
      room.outbox = room.outbox.filter((o) => o.localId !== item.localId);
      this.e.touched(roomId);
      await this.e.persist();
      void seq;
    } catch (e) {
      await fail(e instanceof ApiError || e instanceof Failure ? e.code : "internal");
      throw e;
    }
  }

  /**
   * Encrypts and sends an envelope, catching up and re-encrypting when another member's commit
   * won the epoch race. Records it in the local history. Returns its seq.
   */
  async sendEnvelope(roomId: string, envelope: Envelope, messageId = uuid()): Promise<number> {
    const { app, client } = this.e.need();
    const gid = groupId(roomId);
    const room = this.e.room(roomId);
    if (room.removed || !client.hasGroup(gid)) throw new Failure("not_member");
    const blocked = this.e.roomIdentity(roomId).blocked;
    if (blocked.length) throw new Failure("identity_changed", `the identity of ${blocked.join(", ")} changed; accept it first`);
    let transient = 0;
    for (let i = 0; i < MAX_RETRIES * 4; i++) {
      const payload = client.encryptMessage(gid, envelope);
      const epoch = client.epoch(gid);
      await this.e.persist();
      let seq: number;
      try {
        seq = (await this.e.api.sendMessage(roomId, { id: messageId, kind: "application", epoch, payload })).seq;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (err.code === "stale_epoch") {
          await this.e.syncRoom(roomId);
          continue;
        }
        if (err.code === "duplicate_message" && err.position !== null) {
          seq = err.position;
        } else if ((err.code === "network" || err.code === "unavailable") && transient < 3) {
          // The server may have stored it before failing: resend with the same id.
          transient++;
          await sleep(300 * transient);
          continue;
        } else {
          throw err;
        }
      }
      if (seq > room.processedSeq) room.ownSeqs.push(seq);
      const history = this.e.history(roomId);
      const at = Math.floor(Date.now() / 1000);
      const withId: Envelope = { id: envelope.id ?? "", body: envelope.body };
      applyEnvelope(room, history, seq, app.username, app.deviceId, at, withId, true);
      this.e.touched(roomId);
      await this.e.persist();
      return seq;
    }
    throw new Failure("busy", "the room kept changing epochs; try again");
  }

  // ---- commits --------------------------------------------------------------------------

  /** Sends a commit built by `build` (again after each lost race) and merges it once accepted. */
  async commit(
    roomId: string,
    build: () => CommitBundle,
    effects: (b: CommitBundle) => { added: string[]; removed: string[] },
  ): Promise<MembershipChange> {
    const { app, client } = this.e.need();
    const gid = groupId(roomId);
    for (let i = 0; i < MAX_RETRIES; i++) {
      const epoch = client.epoch(gid);
      const bundle = build();
      const { added, removed } = effects(bundle);
      let seq: number;
      try {
        seq = (
          await this.e.api.sendMessage(roomId, {
            id: uuid(),
            kind: "commit",
            epoch,
            payload: bundle.commit,
            welcome: bundle.welcome,
            added_devices: added,
            removed_devices: removed,
          })
        ).seq;
      } catch (err) {
        client.clearPendingCommit(gid);
        if (err instanceof ApiError && err.code === "stale_epoch") {
          await this.e.syncRoom(roomId);
          continue;
        }
        throw err;
      }
      const change = client.mergePendingCommit(gid, Date.now());
      const room = this.e.room(roomId);
      if (seq > room.processedSeq) room.ownSeqs.push(seq);
      const addedUsers = change.added.map((m) => m.userId);
      const removedUsers = change.removed.map((m) => m.userId);
      if (addedUsers.length || removedUsers.length) {
        const left = removedUsers.filter((u) => room.leaving.includes(u));
        room.leaving = room.leaving.filter((u) => !left.includes(u));
        const entry: Entry = {
          seq,
          sender: app.username,
          senderDevice: app.deviceId,
          at: Math.floor(Date.now() / 1000),
          own: true,
          item: { kind: "membership", added: addedUsers, removed: removedUsers.filter((u) => !left.includes(u)), left },
        };
        insertOrdered(this.e.history(roomId), entry);
        touch(room, entry, true);
      }
      this.e.touched(roomId);
      await this.e.persist();
      this.e.onEpoch(roomId, false);
      return change;
    }
    throw new Failure("busy", "the room kept changing epochs; try again");
  }

  /** Creates a room (an MLS group with this device alone) and names it. */
  async createRoom(name: string): Promise<string> {
    const { client } = this.e.need();
    const info = await this.e.api.createRoom();
    client.createGroup(groupId(info.id));
    this.e.room(info.id);
    this.e.touched(info.id);
    await this.e.persist();
    if (name.trim()) await this.sendEnvelope(info.id, { body: { type: "roomName", name: name.trim() } });
    return info.id;
  }

  async rename(roomId: string, name: string): Promise<void> {
    await this.sendEnvelope(roomId, { body: { type: "roomName", name: name.trim() } });
  }

  /** Adds every active device of `username` that is not yet in the room (ting-client `invite`). */
  async invite(roomId: string, rawUsername: string): Promise<string[]> {
    return this.addDevices(roomId, normaliseUsername(rawUsername), null);
  }

  /** Adds this user's own devices that are missing from the room (a new device). */
  async addOwnDevices(roomId: string): Promise<string[]> {
    return this.addDevices(roomId, this.e.need().app.username, null);
  }

  private async addDevices(roomId: string, username: string, only: string | null): Promise<string[]> {
    const { client } = this.e.need();
    await this.e.syncRoom(roomId);
    const listed = await this.e.api.userDevices(username);
    const inRoom = new Set((await this.e.api.members(roomId)).map((m) => m.device_id));
    const wanted = listed.devices.filter((d) => d.revoked_at === null && !inRoom.has(d.id) && (only === null || d.id === only));
    if (!wanted.length) {
      if (username === this.e.need().app.username) return [];
      throw new Failure("already_member");
    }
    const own = username === this.e.need().app.username;
    // Only devices whose certificates the verified key log holds (throws `key_log` when the
    // server's log does not extend what this device saw: nothing is added then).
    const proven = (await this.e.keyLog.user(username)).keys;
    for (const r of proven.revoked) {
      try {
        client.noteRevocation(r.record);
      } catch (err) {
        console.warn("revocation not accepted", err);
      }
    }
    const kps: Uint8Array[] = [];
    const ids: string[] = [];
    const keys = new Set<string>();
    for (const d of wanted) {
      const claimed = (await this.e.api.claimKeyPackages(username, d.id)).find((c) => c.device_id === d.id);
      if (!claimed) continue;
      let problem: string | null = null;
      try {
        const info = client.inspectKeyPackage(claimed.key_package);
        if (info.userId !== username || info.deviceKey !== b64ToHex(d.signature_key) || info.deviceId !== d.id) {
          problem = `the server offered a key package for ${username} that is not signed by that device's key`;
        } else if (own && info.identityKey !== client.identityKey) {
          problem = "the device is certified by another identity key than this device's";
        } else if (info.identityKey !== proven.identityKey || !proven.devices.some((c) => c.deviceId === d.id && c.deviceKey === info.deviceKey)) {
          problem = "its key package is not vouched for by a certificate in the key log";
        }
      } catch (err) {
        problem = `the key package has no valid certificate (${err instanceof Error ? err.message : String(err)})`;
      }
      if (problem) {
        // A device of this user that no device of the user certified is never added.
        if (own) {
          console.warn(`device ${d.id} skipped: ${problem}`);
          continue;
        }
        throw new Failure("verification", problem);
      }
      kps.push(claimed.key_package);
      ids.push(d.id);
      keys.add(client.inspectKeyPackage(claimed.key_package).identityKey);
    }
    if (own && !kps.length) return [];
    if (!kps.length) throw new Failure("no_key_packages");
    const gid = groupId(roomId);
    if (!own) await this.removeStaleIdentity(roomId, username, keys);
    await this.commit(roomId, () => client.addMembers(gid, kps), () => ({ added: ids, removed: [] }));
    const room = this.e.room(roomId);
    if (room.name) await this.sendEnvelope(roomId, { body: { type: "roomName", name: room.name } });
    if (room.topic) await this.sendEnvelope(roomId, { body: { type: "roomTopic", topic: room.topic } });
    return ids;
  }

  /**
   * A user who started over with a new identity (accepted by this user) is re-invited: their
   * devices of the old identity leave the room first (a group holds one identity per user).
   */
  private async removeStaleIdentity(roomId: string, username: string, current: Set<string>): Promise<void> {
    const { client } = this.e.need();
    const gid = groupId(roomId);
    const stale = () => client.members(gid).filter((m) => m.userId === username && !current.has(m.identityKey));
    const devices = stale().map((m) => m.deviceId);
    if (!devices.length) return;
    const listed = new Set((await this.e.api.members(roomId)).map((m) => m.device_id));
    await this.commit(
      roomId,
      () => client.removeMembers(gid, new Uint32Array(stale().map((m) => m.leafIndex))),
      () => ({ added: [], removed: devices.filter((d) => listed.has(d)) }),
    );
  }

  /** Removes every device of a user from the room; they cannot read anything sent later. */
  async removeUser(roomId: string, username: string): Promise<void> {
    const { client } = this.e.need();
    await this.e.syncRoom(roomId);
    const gid = groupId(roomId);
    const ids = (await this.e.api.members(roomId)).filter((m) => m.username === username).map((m) => m.device_id);
    if (!ids.length && !client.members(gid).some((m) => m.userId === username)) throw new Failure("not_in_room");
    await this.commit(roomId, () => client.removeUser(gid, username), () => ({ added: [], removed: ids }));
  }

  /** Removes a (revoked) device of this user from every room it is still in. */
  async removeDeviceEverywhere(deviceId: string, keyHex: string): Promise<void> {
    const { app, client } = this.e.need();
    for (const [roomId, room] of Object.entries(app.rooms)) {
      if (room.removed) continue;
      const gid = groupId(roomId);
      try {
        await this.e.syncRoom(roomId);
        if (!client.hasGroup(gid)) continue;
        const leaf = client.members(gid).find((m) => m.deviceKey === keyHex);
        if (!leaf) continue;
        const listed = (await this.e.api.members(roomId)).some((m) => m.device_id === deviceId);
        await this.commit(
          roomId,
          () => {
            const again = client.members(gid).find((m) => m.deviceKey === keyHex);
            if (!again) throw new Failure("not_in_room");
            return client.removeMembers(gid, new Uint32Array([again.leafIndex]));
          },
          () => ({ added: [], removed: listed ? [deviceId] : [] }),
        );
      } catch (err) {
        console.warn("could not remove a revoked device from a room", err);
      }
    }
  }

  /** Leaves: sends a self-remove proposal and forgets the group (ting-client `leave`). */
  async leave(roomId: string): Promise<void> {
    const { client } = this.e.need();
    await this.e.syncRoom(roomId);
    const gid = groupId(roomId);
    const proposal = client.leaveGroup(gid);
    const epoch = client.epoch(gid);
    const { seq } = await this.e.api.sendMessage(roomId, { id: uuid(), kind: "application", epoch, payload: proposal });
    client.deleteGroup(gid);
    const room = this.e.room(roomId);
    if (seq > room.processedSeq) room.ownSeqs.push(seq);
    room.removed = true;
    room.outbox = [];
    const { app } = this.e.need();
    const entry: Entry = {
      seq,
      sender: app.username,
      senderDevice: app.deviceId,
      at: Math.floor(Date.now() / 1000),
      own: true,
      item: { kind: "membership", added: [], removed: [], left: [app.username] },
    };
    insertOrdered(this.e.history(roomId), entry);
    touch(room, entry, true);
    this.e.touched(roomId);
    await this.e.persist();
    this.e.onEpoch(roomId, true);
  }

  /** Commits queued self-remove proposals, if this device is the one to do it. */
  async commitPendingLeaves(roomId: string): Promise<void> {
    const { client } = this.e.need();
    const room = this.e.room(roomId);
    const devices = room.pendingLeaves;
    if (!devices.length) return;
    room.pendingLeaves = [];
    const gid = groupId(roomId);
    try {
      await this.commit(roomId, () => client.commitPendingProposals(gid), () => ({ added: [], removed: devices }));
    } catch (err) {
      // Someone else committed it first, or it was already applied: nothing left to do.
      const code = (err as { code?: string }).code;
      if (code !== "invalid_commit" && !(err instanceof Error && err.name === "TingError")) throw err;
    }
  }
}
