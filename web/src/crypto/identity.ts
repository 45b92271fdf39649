/**
 * The user's identity on this device: the master identity key (created on the first device,
 * reset by a user who lost every device), device linking (a new device gets its certificate
 * from an existing one, never from the server), the key log (`/api/v1/keylog`) and what other
 * users' identity changes mean for the rooms shared with them.
 */
import { inspectKeyLogRecord, rendezvousOf, type IdentityAlert, type KeyLogRecord } from "../../pkg/ting_web";
import { ApiError } from "./api";
import { b64decode, groupId } from "./bytes";
import { Failure, type Engine } from "./engine";
import type { ProvenUser } from "./keylog";
import type { Ops } from "./ops";
import type { IdentityChange, LinkApproval, LinkStart, RoomIdentity, WorkerNotice } from "./types";

/** How long a link code stays valid (the server's rendezvous lives 10 minutes). */
export const LINK_TTL_MS = 10 * 60 * 1000;

function parse(record: Uint8Array): KeyLogRecord | null {
  try {
    return inspectKeyLogRecord(record);
  } catch (e) {
    console.warn("a key log record does not verify; ignored", e);
    return null;
  }
}

export class Identity {
  /** This new device's open rendezvous (the one-time key lives in the client, memory only). */
  private link: { rendezvousId: string; code: string; fingerprint: string; expiresAt: number } | null = null;
  /** Requests fetched for codes typed on this (existing) device, by code. */
  private requests = new Map<string, { rendezvousId: string; request: Uint8Array }>();

  constructor(
    private e: Engine,
    private ops: Ops,
    private notify: (n: WorkerNotice) => void,
  ) {
    e.roomIdentity = (roomId) => this.roomIdentity(roomId);
    e.noteAlerts = (roomId, alerts) => this.noteAlerts(roomId, alerts);
    e.establishIdentity = () => this.establish();
  }

  // ---- this device's certificate --------------------------------------------------------

  /**
   * After sign-in: a certified device makes sure its certificate is in the key log; an
   * uncertified one creates the user's identity if the log has none, else it must be linked.
   */
  async establish(): Promise<boolean> {
    const { app, client } = this.e.need();
    let proven: ProvenUser;
    try {
      proven = await this.e.keyLog.user(app.username);
    } catch (err) {
      // A refused key log: a certified device enters (every room shows the warning) but
      // trusts nothing the log says; an uncertified one cannot go on.
      if (err instanceof Failure && err.code === "key_log" && client.certified) return true;
      throw err;
    }
    if (client.certified) {
      const own = client.certificateRecord();
      // Republished only under the master key the log shows (after a reset elsewhere the old
      // certificate is refused; the own-reset warning comes from the log's records).
      const listed = proven.keys.devices.some((d) => d.deviceId === app.deviceId && d.deviceKey === client.deviceKey);
      if (own && !listed && proven.keys.identityKey === client.identityKey) await this.e.api.appendKeyLog(own);
      return true;
    }
    if (proven.records.length) return false;
    const created = client.createIdentity(app.deviceId, Date.now());
    // The master key must be saved before anything is published under it.
    await this.e.persist();
    await this.e.api.appendKeyLog(created.statementRecord);
    await this.e.api.appendKeyLog(created.certificateRecord);
    return true;
  }

  /** For a user who lost every device: a new master key (contacts are warned). */
  async reset(): Promise<void> {
    const { app, client } = this.e.need();
    if (client.certified) throw new Failure("invalid_argument", "this device already has an identity");
    this.link = null;
    const created = client.resetIdentity(app.deviceId, Date.now());
    app.ownReset = null;
    await this.e.persist();
    await this.e.api.appendKeyLog(created.statementRecord);
    await this.e.api.appendKeyLog(created.certificateRecord);
  }

  // ---- linking: the new device ----------------------------------------------------------

  /** Opens a rendezvous and returns the code to show (a fresh one once the last expired). */
  async startLink(): Promise<LinkStart> {
    const { app, client } = this.e.need();
    if (this.link && this.link.expiresAt > Date.now() + 30_000) {
      return { code: this.link.code, fingerprint: this.link.fingerprint, expiresAt: this.link.expiresAt };
    }
    const request = client.linkRequest(app.deviceId, Date.now(), LINK_TTL_MS);
    const opened = await this.e.api.openLink(request);
    const code = client.linkCode(opened.rendezvous_id);
    const expiresAt = Math.min(opened.expires_at * 1000, Date.now() + LINK_TTL_MS);
    this.link = { rendezvousId: opened.rendezvous_id, code, fingerprint: client.ownDeviceFingerprint(), expiresAt };
    return { code, fingerprint: this.link.fingerprint, expiresAt };
  }

  /**
   * Checks for the existing device's answer. `"done"` once this device is certified (its
   * certificate published, key packages uploaded).
   */
  async pollLink(): Promise<"waiting" | "expired" | "done"> {
    const { client } = this.e.need();
    if (client.certified) return "done";
    const link = this.link;
    if (!link) return "expired";
    let response: Uint8Array | null;
    try {
      response = await this.e.api.linkResponse(link.rendezvousId);
    } catch (err) {
      if (err instanceof ApiError && ["link_expired", "unknown_link"].includes(err.code)) {
        this.link = null;
        return "expired";
      }
      throw err;
    }
    if (!response) {
      if (Date.now() < link.expiresAt) return "waiting";
      this.link = null;
      return "expired";
    }
    this.link = null;
    const record = client.linkComplete(response, Date.now());
    await this.e.persist();
    // Key packages first: the other devices add this one as soon as its certificate appears.
    await this.e.replenishKeyPackages();
    await this.e.api.appendKeyLog(record);
    return "done";
  }

  // ---- linking: an existing device ------------------------------------------------------

  /** Fetches the request behind a code the user typed and checks it against the code. */
  async previewLink(rawCode: string): Promise<LinkApproval> {
    const { client } = this.e.need();
    const code = rawCode.trim();
    let rendezvousId: string;
    try {
      rendezvousId = rendezvousOf(code);
    } catch {
      throw new Failure("link_code", "that is not a link code");
    }
    const info = await this.e.api.linkRequest(rendezvousId).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === "unknown_link") throw new Failure("link_code", "no device waits for that code");
      throw err;
    });
    const request = b64decode(info.request);
    let preview;
    try {
      preview = client.linkPreview(code, request, Date.now());
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Failure(/expired/.test(message) ? "link_expired" : "link_mismatch", message);
    }
    if (preview.deviceId !== info.device_id) {
      throw new Failure("link_mismatch", "the server names another device than the request");
    }
    this.requests.set(code, { rendezvousId, request });
    return { deviceId: preview.deviceId, deviceName: info.device_name, fingerprint: preview.deviceFingerprint, expiresAt: preview.expiresAtMs };
  }

  /** After the user confirmed the preview: certifies the new device through the rendezvous. */
  async approveLink(rawCode: string): Promise<void> {
    const { client } = this.e.need();
    const code = rawCode.trim();
    const pending = this.requests.get(code);
    if (!pending) throw new Failure("link_code", "check the code first");
    let response: Uint8Array;
    try {
      response = client.linkApprove(code, pending.request, Date.now());
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Failure(/expired/.test(message) ? "link_expired" : "link_mismatch", message);
    }
    await this.e.api.respondLink(pending.rendezvousId, response);
    this.requests.delete(code);
  }

  /**
   * Revokes a device of this user: a revocation signed with the master key goes into the key
   * log (the server then revokes the device too), so every device and contact refuses it for
   * good. A device that was never certified is only revoked on the server.
   */
  async revokeDevice(deviceId: string): Promise<void> {
    const { app, client } = this.e.need();
    if (client.hasMasterKey()) {
      const records = (await this.e.keyLog.user(app.username)).records;
      const cert = records
        .map((r) => ({ raw: r.record, rec: parse(r.record) }))
        .filter((r) => r.rec?.kind === "device" && r.rec.deviceId === deviceId && r.rec.identityKey === client.identityKey)
        .pop();
      if (cert) {
        // A key log record is the entry tag followed by the certificate's encoding.
        const revocation = client.revokeDevice(cert.raw.subarray(1), Date.now());
        await this.e.persist();
        await this.e.api.appendKeyLog(revocation);
        return;
      }
    }
    await this.e.api.revokeDevice(deviceId);
  }

  // ---- the key log ----------------------------------------------------------------------

  /** A `key_log_appended` event: a device linked, a revocation, or an identity (re)declared. */
  async onKeyLog(username: string, index: number): Promise<void> {
    const { app, client } = this.e.need();
    let proven: ProvenUser;
    try {
      proven = await this.e.keyLog.user(username);
    } catch (err) {
      // A refused log: nothing it says is used (the warning is shown everywhere).
      if (err instanceof Failure && err.code === "key_log") return;
      throw err;
    }
    const records = proven.records.map((r) => ({ index: r.index, raw: r.record, rec: parse(r.record) }));
    const hit = records.find((r) => r.index === index);
    if (!hit?.rec) return;
    const rec = hit.rec;
    if (rec.kind === "revocation") {
      try {
        client.noteRevocation(hit.raw);
      } catch (err) {
        console.warn("revocation not accepted", err);
      }
      await this.e.persist();
      return;
    }
    if (username === app.username) {
      const own = client.identityKey;
      if (own && rec.identityKey !== own) {
        if (app.ownReset !== rec.identityKey) {
          app.ownReset = rec.identityKey;
          this.touchAll();
          await this.e.persist();
        }
        return;
      }
      if (rec.kind === "device" && rec.deviceId && rec.deviceId !== app.deviceId && client.certified) {
        const devices = await this.e.api.ownDevices().catch(() => null);
        const name = devices?.devices.find((d) => d.id === rec.deviceId)?.name ?? rec.deviceId;
        this.notify({ type: "deviceLinked", name });
        for (const [id, r] of Object.entries(app.rooms)) {
          if (r.removed) continue;
          await this.ops.addOwnDevices(id).catch((err) => console.warn("could not add the new device to a room", err));
        }
      }
      return;
    }
    const latest = records.filter((r) => r.rec?.kind === "identity").pop()?.rec;
    if (latest) {
      this.noteKey(username, latest.identityKey);
      await this.e.persist();
    }
  }

  /** Another user's master key as the key log declares it, against this device's pin. */
  private noteKey(user: string, key: string): void {
    const { app, client } = this.e.need();
    const pin = client.pin(user);
    if (!pin || pin.identityKey === key) return;
    const changes = (app.identityChanges ??= {});
    if (changes[user]?.current === key) return;
    changes[user] = {
      previous: changes[user]?.previous ?? pin.identityKey,
      current: key,
      wasVerified: pin.verified || !!pin.change?.previousVerified || !!changes[user]?.wasVerified,
    };
    this.touchRoomsWith(user);
  }

  /** Identity alerts from a welcome or another member's commit. */
  noteAlerts(roomId: string, alerts: IdentityAlert[]): void {
    const { app } = this.e.need();
    for (const a of alerts) {
      if (a.kind === "ownIdentityReset") {
        app.ownReset = a.current;
        this.touchAll();
      } else {
        const changes = (app.identityChanges ??= {});
        changes[a.userId] = { previous: changes[a.userId]?.previous ?? a.previous, current: a.current, wasVerified: a.wasVerified || !!changes[a.userId]?.wasVerified };
        this.touchRoomsWith(a.userId);
      }
    }
    if (alerts.length) this.e.touched(roomId);
  }

  /** The user checked the new key with its owner: the pin moves to it, sending resumes. */
  async accept(user: string): Promise<void> {
    const { app, client } = this.e.need();
    const change = app.identityChanges?.[user];
    const key = change?.current ?? client.pin(user)?.identityKey;
    if (!key) throw new Failure("invalid_argument", "no identity change to accept");
    client.acknowledgeIdentityChange(user, key);
    if (app.identityChanges) delete app.identityChanges[user];
    delete app.verified[user];
    this.touchRoomsWith(user);
    await this.e.persist();
  }

  /** What the room must warn about: members whose identity changed, whether sending waits. */
  roomIdentity(roomId: string): RoomIdentity {
    const { app, client } = this.e.need();
    const gid = groupId(roomId);
    const out: RoomIdentity = { changed: [], blocked: [], ownReset: !!app.ownReset, keyLog: app.keyLogAlarm ?? null, splitView: app.rooms[roomId]?.splitView ?? null };
    if (!client.hasGroup(gid)) return out;
    const users = [...new Set(client.members(gid).map((m) => m.userId))].filter((u) => u !== app.username);
    const blocked = new Set<string>(client.blockedBy(gid));
    for (const u of users) {
      const change: IdentityChange | undefined = app.identityChanges?.[u];
      const pinned = client.pin(u)?.change;
      if (change || pinned) {
        const wasVerified = !!change?.wasVerified || !!pinned?.previousVerified;
        out.changed.push({ user: u, wasVerified });
        if (wasVerified) blocked.add(u);
      }
    }
    out.blocked = [...blocked].sort();
    return out;
  }

  private touchRoomsWith(user: string): void {
    const { app, client } = this.e.need();
    for (const [id, r] of Object.entries(app.rooms)) {
      if (r.removed) continue;
      const gid = groupId(id);
      if (client.hasGroup(gid) && client.members(gid).some((m) => m.userId === user)) this.e.touched(id);
    }
  }

  private touchAll(): void {
    for (const [id, r] of Object.entries(this.e.need().app.rooms)) if (!r.removed) this.e.touched(id);
  }
}
