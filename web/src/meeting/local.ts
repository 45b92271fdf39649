/**
 * This participant's own media: microphone, camera and screen share, and switching between
 * devices. Camera off releases the camera (its light goes out) and stops sending video; the
 * microphone mute disables the track (Opus keeps sending encrypted silence).
 */

import { acquire, classify, open, openScreen, type DeviceChoice, type MediaProblem } from "./devices";
import type { MediaKind } from "./protocol";

/** Where outgoing tracks go once joined (the session's senders). */
export interface TrackSink {
  replace(kind: MediaKind, track: MediaStreamTrack | null): Promise<void>;
}

export class LocalMedia {
  readonly stream = new MediaStream();
  audio: MediaStreamTrack | null = null;
  video: MediaStreamTrack | null = null;
  screen: { track: MediaStreamTrack; stream: MediaStream } | null = null;
  micOn = true;
  camOn = true;
  audioProblem: MediaProblem | null = null;
  videoProblem: MediaProblem | null = null;
  choice: DeviceChoice & { audioOut?: string } = {};
  sink: TrackSink | null = null;

  /** Opens microphone and camera (as far as allowed). */
  async start(): Promise<void> {
    this.stopDevices();
    const got = await acquire({ audio: true, video: this.camOn }, this.choice);
    this.setTrack("audio", got.audio);
    this.setTrack("video", got.video);
    this.audioProblem = got.audioProblem;
    this.videoProblem = this.camOn ? got.videoProblem : null;
    if (this.audio) this.audio.enabled = this.micOn;
    this.remember();
  }

  /** Joining without devices: release whatever is open and send nothing. */
  dropDevices(): void {
    this.stopDevices();
    this.micOn = false;
    this.camOn = false;
  }

  /** Toggles the microphone; opens it first if it was never granted. Throws a `MediaProblem`. */
  async toggleMic(): Promise<void> {
    if (!this.audio) {
      await this.openDevice("audio");
      this.micOn = true;
      return;
    }
    this.micOn = !this.micOn;
    this.audio.enabled = this.micOn;
  }

  /** Toggles the camera: off releases the device. Throws a `MediaProblem`. */
  async toggleCam(): Promise<void> {
    if (this.camOn && this.video) {
      this.camOn = false;
      const t = this.video;
      this.setTrack("video", null);
      await this.sink?.replace("video", null);
      t.stop();
      return;
    }
    await this.openDevice("video");
    this.camOn = true;
  }

  /** Switches to another microphone or camera (`replaceTrack`, no renegotiation). */
  async switchDevice(kind: MediaKind, deviceId: string): Promise<void> {
    if (kind === "audio") this.choice.audioIn = deviceId;
    else this.choice.videoIn = deviceId;
    const on = kind === "audio" ? this.audio !== null : this.camOn;
    if (on) await this.openDevice(kind);
  }

  /** Starts capturing a screen; `null` if the person cancelled. */
  async startScreen(): Promise<{ track: MediaStreamTrack; stream: MediaStream } | null> {
    const s = await openScreen();
    this.screen = s;
    return s;
  }

  stopScreen(): void {
    this.screen?.track.stop();
    this.screen = null;
  }

  stopAll(): void {
    this.stopScreen();
    this.stopDevices();
  }

  private async openDevice(kind: MediaKind): Promise<void> {
    let track: MediaStreamTrack;
    try {
      track = await open(kind, kind === "audio" ? this.choice.audioIn : this.choice.videoIn);
    } catch (e) {
      const problem = classify(e);
      if (kind === "audio") this.audioProblem = problem;
      else this.videoProblem = problem;
      throw problem;
    }
    if (kind === "audio") {
      this.audioProblem = null;
      track.enabled = this.micOn || !this.audio;
    } else {
      this.videoProblem = null;
    }
    const old = kind === "audio" ? this.audio : this.video;
    this.setTrack(kind, track);
    await this.sink?.replace(kind, track);
    old?.stop();
    this.remember();
  }

  private setTrack(kind: MediaKind, track: MediaStreamTrack | null): void {
    const old = kind === "audio" ? this.audio : this.video;
    if (old) this.stream.removeTrack(old);
    if (track) this.stream.addTrack(track);
    if (kind === "audio") this.audio = track;
    else this.video = track;
  }

  /** Keeps the chosen devices' ids, so a rejoin or a new track uses the same ones. */
  private remember(): void {
    const a = this.audio?.getSettings().deviceId;
    const v = this.video?.getSettings().deviceId;
    if (a) this.choice.audioIn = a;
    if (v) this.choice.videoIn = v;
  }

  private stopDevices(): void {
    for (const t of [this.audio, this.video]) t?.stop();
    this.setTrack("audio", null);
    this.setTrack("video", null);
  }
}
