/**
 * Who is in the meeting and what the view shows about each: names from the room's MLS group,
 * announced mute state, received tracks, and the end-to-end state computed from the media
 * worker's counters (per receiving transform, so per participant and track).
 */

import type { RemoteAudio } from "./audio";
import type { MeetingMember } from "./host";
import type { Layer } from "./layers";
import type { PersonModel } from "./panels";
import { SFRAME_STREAM, type StreamCounters } from "./protocol";
import type { RemoteTrack } from "./session";
import type { Quality, TrackSample } from "./stats";
import type { E2eeState, TileModel } from "./tile";

/** Failures with no success for this long make a participant "cannot decrypt". */
const FAILING_MS = 1500;

export interface Person {
  key: string;
  participantId: number;
  deviceId: string;
  audioMuted: boolean;
  videoOff: boolean;
  /** When the hand was seen raised (`Date.now()`), or null. */
  handSince: number | null;
  audio: RemoteTrack | null;
  videos: RemoteTrack[];
}

export interface SelfState {
  name: string;
  participantId: number | null;
  video: MediaStreamTrack | null;
  screen: MediaStreamTrack | null;
  micOn: boolean;
  camOn: boolean;
  hand: boolean;
  /** Send transforms (`Session.sendIds`), for the self tile's counters. */
  sendIds: { audio: string; camera: string; screen: string | null } | null;
}

export interface E2eeSummary {
  state: E2eeState;
  decrypted: number;
  failed: number;
}

export class Roster {
  readonly people = new Map<string, Person>();
  members: MeetingMember[] = [];
  counters = new Map<string, StreamCounters>();
  trackStats = new Map<string, TrackSample>();
  levels = new Map<string, number>();
  /** The loudest of the others (highlighted), and whether this participant speaks. */
  activeSpeaker: string | null = null;
  selfSpeaking = false;
  /** The simulcast layer requested per received camera track (`LayerRequests.requested`). */
  layerOf: (t: RemoteTrack) => Layer | null = () => null;

  static key(participantId: number): string {
    return `p${participantId}`;
  }

  get(participantId: number): Person | undefined {
    return this.people.get(Roster.key(participantId));
  }

  /** The person with that id, created if unknown (tracks may be announced before the join). */
  ensure(participantId: number, deviceId = ""): Person {
    const key = Roster.key(participantId);
    let p = this.people.get(key);
    if (!p) {
      p = { key, participantId, deviceId, audioMuted: false, videoOff: false, handSince: null, audio: null, videos: [] };
      this.people.set(key, p);
    } else if (deviceId) {
      p.deviceId = deviceId;
    }
    return p;
  }

  remove(participantId: number): Person | undefined {
    const key = Roster.key(participantId);
    const p = this.people.get(key);
    this.people.delete(key);
    return p;
  }

  /** A track the SFU started forwarding: audio plays (and feeds the speaker detector). */
  addTrack(t: RemoteTrack, audio: RemoteAudio, changed: () => void): void {
    const p = this.ensure(t.participantId);
    if (t.kind === "audio") {
      p.audio = t;
      audio.add(p.key, t.track);
    } else {
      p.videos = [...p.videos.filter((v) => v.localMid !== t.localMid), t];
      t.track.addEventListener("unmute", changed);
      t.track.addEventListener("mute", changed);
    }
  }

  removeTrack(t: RemoteTrack, audio: RemoteAudio): void {
    const p = this.get(t.participantId);
    if (!p) return;
    if (p.audio === t) {
      p.audio = null;
      audio.remove(p.key);
    }
    p.videos = p.videos.filter((v) => v !== t);
  }

  clear(): void {
    this.people.clear();
    this.trackStats.clear();
    this.levels.clear();
    this.activeSpeaker = null;
  }

  /** A hand went up or down (the server's `meeting_hand`). */
  setHand(participantId: number, raised: boolean, now: number): void {
    const p = this.ensure(participantId);
    if (!raised) p.handSince = null;
    else p.handSince ??= now;
  }

  /** Whether a decrypted frame showed the track to be a camera (SFrame stream 1). */
  isCamera(t: RemoteTrack): boolean {
    return this.counters.get(t.transformId)?.sframeStream === SFRAME_STREAM.camera;
  }

  /** The person's camera track (their first video track that is not a screen share). */
  camera(p: Person): RemoteTrack | undefined {
    const screen = p.videos.find((v) => this.isScreen(p, v));
    return p.videos.find((v) => v !== screen);
  }

  member(p: Person): MeetingMember | undefined {
    return this.members.find((m) => m.deviceId !== null && m.deviceId === p.deviceId);
  }

  name(p: Person): string {
    return this.member(p)?.name ?? `#${p.participantId}`;
  }

  /** Whether a received video track is a screen share: the SFrame stream number says so once a
   * frame decrypted; before that, a second video track of a person is taken as the screen. */
  isScreen(p: Person, t: RemoteTrack): boolean {
    const stream = this.counters.get(t.transformId)?.sframeStream ?? null;
    if (stream !== null) return stream === SFRAME_STREAM.screen;
    const others = p.videos.filter((v) => v !== t);
    return others.some((v) => {
      const s = this.counters.get(v.transformId)?.sframeStream ?? null;
      if (s !== null) return s === SFRAME_STREAM.camera;
      return Number(v.publisherMid ?? 0) < Number(t.publisherMid ?? 0);
    });
  }

  e2ee(p: Person, now: number): E2eeSummary {
    const tracks = [p.audio, ...p.videos].filter((t): t is RemoteTrack => t !== null);
    let ok = 0;
    let failed = 0;
    let lastOk = 0;
    let lastFail = 0;
    let mismatch = false;
    const expected = this.member(p)?.leafIndex;
    for (const t of tracks) {
      const c = this.counters.get(t.transformId);
      if (!c) continue;
      ok += c.ok;
      failed += c.failed;
      lastOk = Math.max(lastOk, c.lastOkAt);
      lastFail = Math.max(lastFail, c.lastFailedAt);
      if (expected !== undefined && c.senderLeaf !== null && c.senderLeaf !== expected) mismatch = true;
    }
    let state: E2eeState = "pending";
    if (lastFail > lastOk && now - lastOk > FAILING_MS) state = "failed";
    else if (mismatch) state = "mismatch";
    else if (ok > 0) state = "ok";
    return { state, decrypted: ok, failed };
  }

  private decryptedOf(t: RemoteTrack | undefined): number {
    return t ? (this.counters.get(t.transformId)?.ok ?? 0) : 0;
  }

  private epochOf(t: RemoteTrack | undefined): number | null {
    return t ? (this.counters.get(t.transformId)?.epoch ?? null) : null;
  }

  quality(t: RemoteTrack | undefined): Quality {
    const loss = t ? this.trackStats.get(t.localMid)?.lossPct : null;
    if (loss === null || loss === undefined) return "unknown";
    return loss > 8 ? "poor" : loss > 2 ? "fair" : "good";
  }

  /** Tiles: remote people in join order, then this participant; screen shares first. */
  tiles(self: SelfState, now: number): TileModel[] {
    const screens: TileModel[] = [];
    const cams: TileModel[] = [];
    for (const p of this.people.values()) {
      const name = this.name(p);
      const e = this.e2ee(p, now);
      const screen = p.videos.find((v) => this.isScreen(p, v));
      const cam = this.camera(p);
      const base = {
        participant: p.key,
        participantId: p.participantId,
        name,
        self: false,
        audioMuted: p.audioMuted,
        hand: p.handSince !== null,
        e2ee: e.state,
        decrypted: e.decrypted,
        decryptFailed: e.failed,
        quality: this.quality(cam),
      };
      cams.push({
        ...base,
        key: p.key,
        screen: false,
        track: cam?.track ?? null,
        videoOn: !!cam && !p.videoOff && !cam.track.muted,
        speaking: this.activeSpeaker === p.key && !p.audioMuted,
        videoDecrypted: this.decryptedOf(cam),
        epoch: this.epochOf(cam),
        framesDecoded: cam ? (this.trackStats.get(cam.localMid)?.framesDecoded ?? 0) : 0,
        frameHeight: cam ? (this.trackStats.get(cam.localMid)?.height ?? null) : null,
        layer: cam ? this.layerOf(cam) : null,
      });
      if (screen) {
        screens.push({
          ...base,
          key: `${p.key}:screen`,
          screen: true,
          track: screen.track,
          videoOn: true,
          speaking: false,
          videoDecrypted: this.decryptedOf(screen),
          epoch: this.epochOf(screen),
          framesDecoded: this.trackStats.get(screen.localMid)?.framesDecoded ?? 0,
          frameHeight: this.trackStats.get(screen.localMid)?.height ?? null,
          layer: null,
        });
      }
    }
    const me = {
      participant: "self",
      participantId: self.participantId,
      name: self.name,
      self: true,
      audioMuted: !self.micOn,
      e2ee: "ok" as E2eeState,
      decrypted: 0,
      decryptFailed: 0,
      videoDecrypted: 0,
      epoch: null,
      framesDecoded: 0,
      frameHeight: null,
      layer: null,
      quality: "unknown" as Quality,
    };
    const sent = (id: string | null | undefined) => (id ? (this.counters.get(id)?.ok ?? 0) : 0);
    cams.push({
      ...me,
      decrypted: sent(self.sendIds?.audio) + sent(self.sendIds?.camera),
      videoDecrypted: sent(self.sendIds?.camera),
      key: "self",
      screen: false,
      track: self.video,
      videoOn: self.camOn && !!self.video,
      hand: self.hand,
      speaking: this.selfSpeaking,
    });
    if (self.screen) {
      const videoDecrypted = sent(self.sendIds?.screen);
      screens.unshift({ ...me, videoDecrypted, key: "self:screen", screen: true, track: self.screen, videoOn: true, hand: false, speaking: false });
    }
    // One screen share takes the stage; the most recent remote one wins over this participant's.
    return [...screens.slice(-1), ...cams];
  }

  /** The participant list: this participant, then raised hands in the order raised, then the rest. */
  persons(self: SelfState & { userId: string }, now: number): PersonModel[] {
    const out: PersonModel[] = [
      {
        key: "self",
        name: self.name,
        self: true,
        userId: self.userId,
        verified: true,
        audioMuted: !self.micOn,
        videoOff: !self.camOn,
        hand: self.hand,
        speaking: this.selfSpeaking,
        e2ee: "ok",
      },
    ];
    const others = [...this.people.values()];
    const order = (p: Person) => p.handSince ?? Infinity;
    others.sort((a, b) => order(a) - order(b) || 0); // stable: join order among equals
    for (const p of others) {
      const m = this.member(p);
      out.push({
        key: p.key,
        name: this.name(p),
        self: false,
        userId: m?.userId ?? null,
        verified: m?.verified ?? false,
        audioMuted: p.audioMuted,
        videoOff: p.videoOff,
        hand: p.handSince !== null,
        speaking: this.activeSpeaker === p.key && !p.audioMuted,
        e2ee: this.e2ee(p, now).state,
      });
    }
    return out;
  }
}
