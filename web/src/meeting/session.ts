/**
 * One media session with the SFU: an `RTCPeerConnection` and the meeting signaling on the app's
 * WebSocket (ting-proto `ws.rs`).
 *
 * Sequence, as in Ting's native participant: `meeting_join {sdp: offer}` → `meeting_joined
 * {participant_id, sdp: answer, participants}`; the SFU then offers every track it forwards
 * (`meeting_offer {offer_id}` → `meeting_answer {offer_id}`), and this side offers its own
 * changes (screen share on/off: `meeting_offer` → `meeting_answer`). All SDP work runs in one
 * queue. On glare the SFU is the polite peer: an SFU offer that arrives while an own offer is
 * outstanding is dropped (the SFU abandons it and offers again after answering).
 *
 * The SFU is ICE-lite with one host candidate; this side is the full-ICE controlling agent.
 * A session is single-use: a rejoin builds a new one.
 */

import type { MeetingHost } from "./host";
import type { MediaE2ee } from "./e2ee";
import { SFRAME_STREAM, type MediaKind } from "./protocol";
import type { Layer } from "./layers";
import { preferCodecs, remoteSections, type RemoteSection } from "./sdp";

/** Simulcast layers of the camera, smallest first; the SFU maps rids q/h/f to low/medium/high. */
export const CAMERA_LAYERS: RTCRtpEncodingParameters[] = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];
const SCREEN_MAX_BITRATE = 2_500_000;
const ANSWER_TIMEOUT_MS = 15_000;
/** Errors that answer a `meeting_join`. */
const JOIN_ERRORS = new Set(["unknown_room", "invalid_sdp", "unavailable", "invalid_input"]);

export interface Peer {
  participantId: number;
  deviceId: string;
}

/** A track the SFU forwards to this session. */
export interface RemoteTrack {
  localMid: string;
  participantId: number;
  publisherMid: string | null;
  kind: MediaKind;
  track: MediaStreamTrack;
  receiver: RTCRtpReceiver;
  /** The media worker's transform id (its counters). */
  transformId: string;
}

export interface SessionEvents {
  joined(selfId: number, peers: Peer[]): void;
  refused(code: string, message: string): void;
  failed(message: string): void;
  peerJoined(peer: Peer): void;
  peerLeft(participantId: number, reason: string): void;
  trackPublished?(participantId: number, mid: string, kind: string): void;
  trackUnpublished?(participantId: number, mid: string): void;
  remoteTrack(t: RemoteTrack): void;
  remoteTrackGone(t: RemoteTrack): void;
  muted(participantId: number, audio: boolean, video: boolean): void;
  /** A participant (this one included: the server echoes) raised or lowered a hand. */
  hand(participantId: number, raised: boolean): void;
  /** The server ended this session (`removed`, `timeout`, `closed`). */
  ended(reason: string): void;
  /** `not_in_meeting`: the server no longer knows this session. */
  lost(): void;
  connection(state: RTCPeerConnectionState): void;
}

type ServerEvent = { type: string; [k: string]: unknown };

interface Waiter {
  resolve(sdp: string): void;
  reject(e: Error): void;
}

export class Session {
  readonly pc: RTCPeerConnection;
  private queue: Promise<void> = Promise.resolve();
  /** Set while an own offer (join or renegotiation) waits for its answer. */
  private waiter: Waiter | null = null;
  private joining = false;
  /** The server knows this session (joined, and not ended by the server). */
  private inMeeting = false;
  private closed = false;
  private sections = new Map<string, RemoteSection>();
  private remote = new Map<string, RemoteTrack>();
  private audio: RTCRtpSender;
  private video: RTCRtpSender;
  private screen: RTCRtpTransceiver | null = null;
  private unsubscribe: () => void;
  /** The media worker's transform ids of this side's senders (their counters). */
  readonly sendIds: { audio: string; camera: string; screen: string | null } = { audio: "", camera: "", screen: null };

  constructor(
    private readonly host: MeetingHost,
    private readonly e2ee: MediaE2ee,
    private readonly events: SessionEvents,
    local: { stream: MediaStream; audio: MediaStreamTrack | null; video: MediaStreamTrack | null },
  ) {
    const config: RTCConfiguration & { encodedInsertableStreams?: boolean } = {
      bundlePolicy: "max-bundle",
      rtcpMuxPolicy: "require",
      iceServers: [],
    };
    if (e2ee.mode === "streams") config.encodedInsertableStreams = true;
    this.pc = new RTCPeerConnection(config);
    this.pc.onconnectionstatechange = () => {
      if (!this.closed) events.connection(this.pc.connectionState);
    };
    const a = this.pc.addTransceiver(local.audio ?? "audio", { direction: "sendonly", streams: [local.stream] });
    preferCodecs(a, "audio");
    this.sendIds.audio = e2ee.protectSender(a.sender, "audio", SFRAME_STREAM.audio);
    this.audio = a.sender;
    const v = this.pc.addTransceiver(local.video ?? "video", {
      direction: "sendonly",
      streams: [local.stream],
      sendEncodings: CAMERA_LAYERS.map((l) => ({ ...l })),
    });
    preferCodecs(v, "video");
    this.sendIds.camera = e2ee.protectSender(v.sender, "video", SFRAME_STREAM.camera);
    this.video = v.sender;
    this.unsubscribe = host.onEvent((ev) => this.onEvent(ev));
  }

  /** Sends `meeting_join`; the outcome arrives as `joined`, `refused` or `failed`. */
  join(): void {
    this.joining = true;
    this.enqueue(async () => {
      const answer = await this.offer((sdp) => ({ type: "meeting_join", room_id: this.host.roomId, sdp }));
      await this.pc.setRemoteDescription({ type: "answer", sdp: answer });
    }).catch((e: unknown) => {
      if (!this.closed && !(e instanceof Refused)) this.events.failed(String(e));
    });
  }

  /** Replaces the microphone or camera track (device switch, camera on/off) without renegotiation. */
  async replace(kind: MediaKind, track: MediaStreamTrack | null): Promise<void> {
    await (kind === "audio" ? this.audio : this.video).replaceTrack(track);
  }

  /** Publishes a screen share (renegotiates). */
  startScreen(track: MediaStreamTrack, stream: MediaStream): Promise<void> {
    return this.enqueue(async () => {
      const t = this.pc.addTransceiver(track, {
        direction: "sendonly",
        streams: [stream],
        sendEncodings: [{ maxBitrate: SCREEN_MAX_BITRATE }],
      });
      preferCodecs(t, "video");
      this.sendIds.screen = this.e2ee.protectSender(t.sender, "video", SFRAME_STREAM.screen);
      this.screen = t;
      await this.renegotiate();
    });
  }

  /** Stops publishing the screen share (renegotiates). */
  stopScreen(): Promise<void> {
    return this.enqueue(async () => {
      const t = this.screen;
      this.screen = null;
      if (!t || this.closed) return;
      t.stop();
      await this.renegotiate();
    });
  }

  /** Announces this participant's mute state to the others. */
  announceMute(audio: boolean, video: boolean): void {
    if (!this.closed) this.host.send({ type: "meeting_mute", room_id: this.host.roomId, audio, video });
  }

  /** Whether the server knows this session (signaling other than the join is accepted). */
  get joined(): boolean {
    return this.inMeeting && !this.closed;
  }

  /** Raises or lowers this participant's hand; the server's echo (`hand`) confirms it. */
  raiseHand(raised: boolean): boolean {
    if (!this.joined) return false;
    this.host.send({ type: "meeting_hand", room_id: this.host.roomId, raised });
    return true;
  }

  /** Asks for at most `layer` of a received camera track (`meeting_layer`). */
  requestLayer(t: RemoteTrack, layer: Layer): boolean {
    if (!this.joined || t.publisherMid === null || !this.remote.has(t.localMid)) return false;
    const msg = { type: "meeting_layer", room_id: this.host.roomId, participant_id: t.participantId, mid: t.publisherMid, layer };
    this.host.send(msg);
    return true;
  }

  /** Leaves politely (`meeting_leave`) and closes. */
  leave(): void {
    if (this.closed) return;
    if (this.inMeeting) this.host.send({ type: "meeting_leave", room_id: this.host.roomId });
    this.close();
  }

  /** Closes without telling the server (it already forgot this session). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.waiter?.reject(new Error("closed"));
    this.waiter = null;
    for (const t of this.remote.values()) this.e2ee.forget(t.transformId);
    this.pc.close();
  }

  remoteTracks(): RemoteTrack[] {
    return [...this.remote.values()];
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const p = this.queue.then(() => (this.closed ? undefined : op()));
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Creates and sends an own offer; resolves with the answer SDP. */
  private async offer(message: (sdp: string) => Record<string, unknown>): Promise<string> {
    let waiter: Waiter | null = null;
    const answered = new Promise<string>((resolve, reject) => {
      waiter = { resolve, reject };
    });
    this.waiter = waiter;
    try {
      await this.pc.setLocalDescription(await this.pc.createOffer());
      const sdp = this.pc.localDescription?.sdp;
      if (!sdp) throw new Error("no local description");
      this.host.send(message(sdp));
      return await withTimeout(answered, ANSWER_TIMEOUT_MS);
    } finally {
      if (this.waiter === waiter) this.waiter = null;
    }
  }

  /** The answer to the outstanding own offer arrived; from now on SFU offers are answered. */
  private settle(sdp: string): void {
    const w = this.waiter;
    this.waiter = null;
    w?.resolve(sdp);
  }

  private async renegotiate(): Promise<void> {
    try {
      const sdp = await this.offer((sdp) => ({ type: "meeting_offer", room_id: this.host.roomId, sdp }));
      this.note(sdp);
      await this.pc.setRemoteDescription({ type: "answer", sdp });
      this.sync();
    } catch (e) {
      if (!this.closed && this.pc.signalingState === "have-local-offer") {
        await this.pc.setLocalDescription({ type: "rollback" }).catch(() => undefined);
      }
      throw e;
    }
  }

  private async answerServer(offerId: number, sdp: string): Promise<void> {
    if (this.pc.signalingState !== "stable") return;
    this.note(sdp);
    await this.pc.setRemoteDescription({ type: "offer", sdp });
    this.sync();
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    const answer = this.pc.localDescription?.sdp;
    if (!answer || this.closed) return;
    this.host.send({ type: "meeting_answer", room_id: this.host.roomId, offer_id: offerId, sdp: answer });
  }

  private note(sdp: string): void {
    for (const s of remoteSections(sdp)) if (s.mid) this.sections.set(s.mid, s);
  }

  /** Puts a decrypting transform on every new receiving m-line and retires stopped ones. */
  private sync(): void {
    for (const t of this.pc.getTransceivers()) {
      const mid = t.mid;
      if (!mid || t === this.screen) continue;
      const s = this.sections.get(mid);
      const known = this.remote.get(mid);
      const receiving = !!s && !s.stopped && s.participantId !== null && t.currentDirection !== "stopped";
      if (receiving && !known) {
        const transformId = this.e2ee.protectReceiver(t.receiver, s.kind);
        const r: RemoteTrack = {
          localMid: mid,
          participantId: s.participantId!,
          publisherMid: s.publisherMid,
          kind: s.kind,
          track: t.receiver.track,
          receiver: t.receiver,
          transformId,
        };
        this.remote.set(mid, r);
        this.events.remoteTrack(r);
      } else if (!receiving && known) {
        this.remote.delete(mid);
        this.e2ee.forget(known.transformId);
        this.events.remoteTrackGone(known);
      }
    }
  }

  private onEvent(ev: ServerEvent): void {
    if (this.closed) return;
    if (ev.type === "error") {
      this.onError(String(ev.code ?? ""), String(ev.message ?? ""));
      return;
    }
    if (ev.room_id !== this.host.roomId) return;
    const num = (k: string) => Number(ev[k]);
    const str = (k: string) => String(ev[k] ?? "");
    switch (ev.type) {
      case "meeting_joined": {
        if (!this.joining) return;
        this.joining = false;
        this.inMeeting = true;
        const peers = Array.isArray(ev.participants) ? (ev.participants as Record<string, unknown>[]) : [];
        this.settle(str("sdp"));
        this.events.joined(
          num("participant_id"),
          peers.map((p) => ({ participantId: Number(p.participant_id), deviceId: String(p.device_id) })),
        );
        break;
      }
      case "meeting_offer":
        // Glare: the SFU yields to an own outstanding offer and offers again afterwards.
        if (this.waiter) return;
        void this.enqueue(() => this.answerServer(num("offer_id"), str("sdp"))).catch((e: unknown) =>
          this.events.failed(`renegotiation: ${String(e)}`),
        );
        break;
      case "meeting_answer":
        this.settle(str("sdp"));
        break;
      case "meeting_participant_joined":
        this.events.peerJoined({ participantId: num("participant_id"), deviceId: str("device_id") });
        break;
      case "meeting_participant_left":
        this.events.peerLeft(num("participant_id"), str("reason"));
        break;
      case "meeting_track_published":
        this.events.trackPublished?.(num("participant_id"), str("mid"), str("kind"));
        break;
      case "meeting_track_unpublished":
        this.events.trackUnpublished?.(num("participant_id"), str("mid"));
        break;
      case "meeting_muted":
        this.events.muted(num("participant_id"), ev.audio === true, ev.video === true);
        break;
      case "meeting_hand":
        this.events.hand(num("participant_id"), ev.raised === true);
        break;
      case "meeting_ended":
        this.inMeeting = false;
        this.events.ended(str("reason"));
        break;
    }
  }

  private onError(code: string, message: string): void {
    if (this.joining && JOIN_ERRORS.has(code)) {
      this.joining = false;
      const w = this.waiter;
      this.waiter = null;
      w?.reject(new Refused(code));
      this.events.refused(code, message);
    } else if (this.waiter && code === "invalid_sdp") {
      const w = this.waiter;
      this.waiter = null;
      w.reject(new Error(message || code));
    } else if (code === "not_in_meeting" && this.inMeeting) {
      this.inMeeting = false;
      this.events.lost();
    } else if (code === "unknown_track") {
      // A layer request raced with the track's end; the next choice is sent for live tracks.
      console.warn("meeting_layer:", message || code);
    }
  }
}

class Refused extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no answer from the server")), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
