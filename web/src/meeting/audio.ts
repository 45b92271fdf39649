/**
 * Remote audio playback: one hidden `<audio>` per participant (decrypted, decoded audio), on the
 * chosen output device, each also feeding the active-speaker detector. Chromium only delivers
 * remote WebRTC audio to Web Audio while it also plays in a media element.
 */

import { h } from "./dom";
import type { SpeakerDetector } from "./speaker";

type SinkElement = HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };

export class RemoteAudio {
  readonly el = h("div.tm-audio");
  private readonly players = new Map<string, SinkElement>();
  private sink: string | undefined;

  constructor(private readonly speaker: SpeakerDetector) {}

  add(key: string, track: MediaStreamTrack): void {
    this.remove(key);
    const a: SinkElement = h("audio", { autoplay: true, "data-participant": key });
    a.srcObject = new MediaStream([track]);
    this.applySink(a);
    this.el.append(a);
    this.players.set(key, a);
    void a.play().catch(() => undefined);
    this.speaker.add(key, track);
  }

  remove(key: string): void {
    this.speaker.remove(key);
    const a = this.players.get(key);
    if (!a) return;
    a.srcObject = null;
    a.remove();
    this.players.delete(key);
  }

  /** Plays everything on output device `id` (where the browser can choose). */
  setSink(id: string | undefined): void {
    this.sink = id;
    for (const a of this.players.values()) this.applySink(a);
  }

  clear(): void {
    for (const k of [...this.players.keys()]) this.remove(k);
  }

  private applySink(a: SinkElement): void {
    if (this.sink && a.setSinkId) void a.setSinkId(this.sink).catch(() => undefined);
  }
}
