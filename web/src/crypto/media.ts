/**
 * Media key ports for the meeting view (contract in `../meeting/host.ts`): the crypto worker
 * keeps one end of a MessageChannel per request and posts the room's SFrame epoch
 * (`TingClient.mediaEpoch`) and member list now and after every epoch change; `left` when this
 * device was removed. The key bytes never touch the main thread's JS values: the other end of
 * the port is transferred through it to the media worker.
 */
import { b64ToHex, groupId } from "./bytes";
import type { Engine } from "./engine";
import type { MediaKeyMessage, MeetingMember } from "../meeting/host";

export class MediaPorts {
  private ports = new Map<string, Set<MessagePort>>();

  constructor(private e: Engine) {
    e.onEpoch = (roomId, left) => void this.update(roomId, left);
  }

  /** A new port for `roomId` with the current epoch and members already posted. */
  async open(roomId: string): Promise<MessagePort> {
    const { client } = this.e.need();
    if (!client.hasGroup(groupId(roomId))) throw Object.assign(new Error("not a member"), { code: "not_member" });
    const channel = new MessageChannel();
    let set = this.ports.get(roomId);
    if (!set) {
      set = new Set();
      this.ports.set(roomId, set);
    }
    set.add(channel.port1);
    channel.port1.start();
    await this.postTo(roomId, [channel.port1]);
    return channel.port2;
  }

  /** Drops every port of a room (the meeting view closed). */
  release(roomId: string): void {
    for (const p of this.ports.get(roomId) ?? []) p.close();
    this.ports.delete(roomId);
  }

  /** The room's group members, with server device ids resolved through its member list. */
  async members(roomId: string): Promise<MeetingMember[]> {
    const { client } = this.e.need();
    const gid = groupId(roomId);
    const mls = client.members(gid);
    const byKey = new Map<string, string>();
    try {
      for (const m of await this.e.api.members(roomId)) byKey.set(b64ToHex(m.signature_key), m.device_id);
    } catch (err) {
      console.warn("room members unavailable", err);
    }
    return mls.map((m) => ({
      deviceId: byKey.get(m.deviceKey) ?? null,
      userId: m.userId,
      name: m.userId,
      leafIndex: m.leafIndex,
      deviceKey: m.deviceKey,
      verified: this.e.verification(gid, m.userId) === "verified",
    }));
  }

  private async update(roomId: string, left: boolean): Promise<void> {
    const set = this.ports.get(roomId);
    if (!set?.size) return;
    if (left) {
      const msg: MediaKeyMessage = { type: "left" };
      for (const p of set) p.postMessage(msg);
      this.release(roomId);
      return;
    }
    await this.postTo(roomId, [...set]);
  }

  private async postTo(roomId: string, ports: MessagePort[]): Promise<void> {
    const { client } = this.e.need();
    const gid = groupId(roomId);
    if (!client.hasGroup(gid)) return;
    const epoch = client.epoch(gid);
    for (const p of ports) {
      const bytes = client.mediaEpoch(gid);
      const msg: MediaKeyMessage = { type: "epoch", epoch, bytes };
      p.postMessage(msg, [bytes.buffer]);
    }
    const members = await this.members(roomId);
    for (const p of ports) {
      const msg: MediaKeyMessage = { type: "members", members };
      p.postMessage(msg);
    }
  }
}
