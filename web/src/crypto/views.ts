/** Read-only views of the device state for the UI (rooms, timeline, members, devices). */
import { b64ToHex, groupId } from "./bytes";
import type { Engine } from "./engine";
import type { DeviceView, MemberInfo, RoomSummary, SafetyView, Timeline } from "./types";

export function rooms(e: Engine): RoomSummary[] {
  const { app, client } = e.need();
  const out: RoomSummary[] = [];
  for (const [id, r] of Object.entries(app.rooms)) {
    const gid = groupId(id);
    let members: string[] = [];
    if (!r.removed && client.hasGroup(gid)) {
      members = [...new Set(client.members(gid).map((m) => m.userId))].sort();
    }
    out.push({
      id,
      name: r.name,
      topic: r.topic,
      unread: r.unread,
      lastAt: r.lastAt,
      lastPreview: r.lastPreview,
      removed: r.removed,
      members,
      failed: r.outbox.filter((o) => o.status === "failed").length,
    });
  }
  out.sort((a, b) => Number(a.removed) - Number(b.removed) || b.lastAt - a.lastAt || a.id.localeCompare(b.id));
  return out;
}

export function timeline(e: Engine, roomId: string, limit: number): Timeline {
  const { app } = e.need();
  const r = app.rooms[roomId];
  if (!r) throw Object.assign(new Error("no such room"), { code: "unknown_room" });
  const h = e.history(roomId);
  const start = Math.max(0, h.length - limit);
  const entries = h.slice(start);
  // Replies may point before the window: quote their targets from the whole history.
  const quotes: Timeline["quotes"] = {};
  const wanted = new Set(entries.map((x) => (x.item.kind === "text" ? x.item.replyTo : null)).filter((id): id is string => !!id));
  if (wanted.size) {
    for (const x of h) {
      const it = x.item;
      if ((it.kind === "text" || it.kind === "file") && wanted.has(it.id)) {
        quotes[it.id] = {
          sender: x.sender,
          text: it.kind === "text" ? it.body : it.file.name,
          redacted: it.redacted,
          seq: x.seq,
        };
      }
    }
  }
  const identity = r.removed ? { changed: [], blocked: [], ownReset: false } : e.roomIdentity(roomId);
  return { roomId, name: r.name, topic: r.topic, removed: r.removed, entries, more: start > 0, outbox: r.outbox, quotes, identity };
}

export async function members(e: Engine, roomId: string): Promise<MemberInfo[]> {
  const { app, client } = e.need();
  const gid = groupId(roomId);
  if (!client.hasGroup(gid)) return [];
  const mls = client.members(gid);
  const names = new Map<string, { id: string; name: string }>();
  const users = [...new Set(mls.map((m) => m.userId))].sort();
  await Promise.all(
    users.map(async (u) => {
      try {
        for (const d of (await e.api.userDevices(u)).devices) names.set(b64ToHex(d.signature_key), { id: d.id, name: d.name });
      } catch {
        /* names stay unknown */
      }
    }),
  );
  return users.map((u) => ({
    username: u,
    self: u === app.username,
    devices: mls
      .filter((m) => m.userId === u)
      .map((m) => ({ deviceId: names.get(m.deviceKey)?.id ?? null, name: names.get(m.deviceKey)?.name ?? null, deviceKey: m.deviceKey })),
    verification: u === app.username ? "verified" : e.verification(gid, u),
  }));
}

export function safety(e: Engine, roomId: string, username: string): SafetyView {
  const { client } = e.need();
  const gid = groupId(roomId);
  const n = client.safetyNumber(gid, username);
  return { username, digits: n.digits, groups: n.groups, qrPayload: n.qrPayload, verified: e.verification(gid, username) === "verified" };
}

export async function setVerified(e: Engine, roomId: string, username: string, verified: boolean): Promise<void> {
  const { app, client } = e.need();
  const gid = groupId(roomId);
  if (verified) {
    // The pin records the verified master key: if it changes later, sending waits for the user.
    const pinned = client.pin(username)?.identityKey;
    if (pinned && client.members(gid).some((m) => m.userId === username && m.identityKey === pinned)) {
      client.markVerified(username, pinned);
    }
    app.verified[username] = client.userFingerprint(gid, username);
  } else {
    delete app.verified[username];
  }
  for (const [id, r] of Object.entries(app.rooms)) if (!r.removed) e.touched(id);
  await e.persist();
}

export async function devices(e: Engine): Promise<DeviceView[]> {
  const { app } = e.need();
  const list = await e.api.ownDevices();
  return list.devices.map((d) => ({
    id: d.id,
    name: d.name,
    createdAt: d.created_at,
    revokedAt: d.revoked_at,
    current: d.id === app.deviceId,
    key: b64ToHex(d.signature_key),
    certified: d.certified !== false,
  }));
}
