/** One video tile: a participant's camera (or avatar) or a screen share. */

import { data, h, hue, initials, setText } from "./dom";
import { icon } from "./icons";
import type { Layer } from "./layers";
import type { Quality } from "./stats";
import type { Strings } from "./strings";

export type E2eeState = "pending" | "ok" | "failed" | "mismatch";

/** What a tile shows; built by the controller on every refresh. */
export interface TileModel {
  key: string;
  participant: string;
  participantId: number | null;
  name: string;
  self: boolean;
  screen: boolean;
  track: MediaStreamTrack | null;
  /** The video should be visible (camera on and frames arriving). */
  videoOn: boolean;
  audioMuted: boolean;
  hand: boolean;
  speaking: boolean;
  e2ee: E2eeState;
  decrypted: number;
  decryptFailed: number;
  /** Frames of this tile's video track that the media worker decrypted (encrypted, for this
   * participant's own tiles; `decrypted` likewise counts all their encrypted frames). */
  videoDecrypted: number;
  /** MLS epoch of the keys of the last frame decrypted for this tile's video. */
  epoch: number | null;
  framesDecoded: number;
  /** Height of the frames received (getStats), null if none or not measured. */
  frameHeight: number | null;
  /** The simulcast layer asked of the SFU for this camera (remote cameras only). */
  layer: Layer | null;
  quality: Quality;
}

export class TileView {
  readonly el: HTMLDivElement;
  private readonly video: HTMLVideoElement;
  private readonly avatar: HTMLDivElement;
  private readonly name: HTMLSpanElement;
  private readonly mic: HTMLSpanElement;
  private readonly hand: HTMLSpanElement;
  private readonly badge: HTMLSpanElement;
  private readonly badgeText: HTMLSpanElement;
  private readonly quality: HTMLSpanElement;
  private track: MediaStreamTrack | null = null;
  private rendered = 0;
  private badgeState: E2eeState | null = null;

  constructor(readonly key: string) {
    this.video = h("video.tm-video", { autoplay: true, playsinline: true });
    this.video.muted = true; // audio plays through the meeting's own audio elements
    this.avatar = h("div.tm-avatar", { "aria-hidden": "true" });
    this.name = h("span.tm-name");
    this.mic = h("span.tm-mic", {}, icon("micOff"));
    this.hand = h("span.tm-hand", { role: "img" }, icon("hand"));
    this.badgeText = h("span.tm-badge-text");
    this.badge = h("span.tm-e2ee", { role: "status" }, this.badgeText);
    this.quality = h("span.tm-quality", {}, icon("signal"));
    this.el = h(
      "div.tm-tile",
      { "data-tile": key },
      h("div.tm-avatar-wrap", {}, this.avatar),
      this.video,
      h("div.tm-tile-top", {}, this.badge, this.quality),
      h("div.tm-label", {}, this.mic, this.name, this.hand),
    );
    this.countFrames();
  }

  /** Counts rendered frames (a test hook and the "video is really playing" signal). */
  private countFrames(): void {
    const v = this.video as HTMLVideoElement & {
      requestVideoFrameCallback?: (cb: () => void) => number;
    };
    if (typeof v.requestVideoFrameCallback !== "function") return;
    const next = () => {
      this.rendered++;
      if (this.rendered % 15 === 1) data(this.el, "frames-rendered", this.rendered);
      v.requestVideoFrameCallback!(next);
    };
    v.requestVideoFrameCallback(next);
  }

  update(m: TileModel, s: Strings): void {
    if (m.track !== this.track) {
      this.track = m.track;
      this.video.srcObject = m.track ? new MediaStream([m.track]) : null;
      if (m.track) void this.video.play().catch(() => undefined);
    }
    const showVideo = m.videoOn && !!m.track;
    const label = m.screen ? (m.self ? s.youPresenting : s.presenting(m.name)) : m.self ? `${m.name} (${s.you.toLowerCase()})` : m.name;
    setText(this.name, label);
    setText(this.avatar, initials(m.name));
    this.avatar.style.setProperty("--tm-hue", String(hue(m.name)));
    this.video.classList.toggle("tm-mirror", m.self && !m.screen);
    this.el.classList.toggle("tm-video-on", showVideo);
    this.el.classList.toggle("tm-screen", m.screen);
    this.el.classList.toggle("tm-speaking", m.speaking && !m.screen);
    this.mic.hidden = !m.audioMuted || m.screen;
    this.mic.title = s.micMuted;
    const hand = m.hand && !m.screen;
    this.hand.hidden = !hand;
    this.hand.title = s.handRaised;
    this.hand.setAttribute("aria-label", s.handRaisedBy(m.self ? s.you : m.name));
    this.el.classList.toggle("tm-hand-up", hand);
    // Someone who sends nothing (no microphone, camera off) has nothing to decrypt yet.
    this.badge.hidden = m.self || (m.e2ee === "pending" && m.audioMuted && !m.videoOn);
    if (this.badgeState !== m.e2ee) {
      this.badgeState = m.e2ee;
      this.badge.className = `tm-e2ee tm-e2ee-${m.e2ee}`;
      this.badge.replaceChildren(icon(m.e2ee === "ok" || m.e2ee === "pending" ? "lock" : "warning"), this.badgeText);
    }
    const text = { ok: s.e2eeOk, pending: s.e2eePending, failed: s.e2eeFailed, mismatch: s.e2eeMismatch }[m.e2ee];
    setText(this.badgeText, text);
    this.badge.title = m.e2ee === "failed" ? s.e2eeFailedHint : text;
    this.quality.hidden = m.self || m.screen || m.quality === "unknown";
    this.quality.className = `tm-quality tm-q-${m.quality}`;
    this.quality.title = { good: s.qualityGood, fair: s.qualityFair, poor: s.qualityPoor, unknown: s.qualityUnknown }[m.quality];
    this.el.setAttribute("aria-label", hand ? `${label}, ${s.handRaised.toLowerCase()}` : label);
    data(this.el, "participant", m.participant);
    data(this.el, "participant-id", m.participantId);
    data(this.el, "name", m.name);
    data(this.el, "self", m.self);
    data(this.el, "screen", m.screen);
    data(this.el, "e2ee", m.e2ee);
    data(this.el, "decrypted", m.decrypted);
    data(this.el, "decrypt-failed", m.decryptFailed);
    data(this.el, "video-decrypted", m.videoDecrypted);
    data(this.el, "epoch", m.epoch);
    data(this.el, "frames-decoded", m.framesDecoded);
    data(this.el, "frame-height", m.frameHeight);
    data(this.el, "layer", m.layer);
    data(this.el, "audio-muted", m.audioMuted);
    data(this.el, "video-off", !m.videoOn);
    data(this.el, "speaking", m.speaking);
    data(this.el, "hand", m.hand);
  }

  destroy(): void {
    this.video.srcObject = null;
    this.el.remove();
  }
}
