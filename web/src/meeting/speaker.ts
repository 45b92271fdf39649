/**
 * Active speaker, computed here from decrypted audio: the SFU does not negotiate the
 * audio-level header extension in encrypted meetings, so only the participants can tell who
 * speaks. Each audio track (after SFrame decryption and Opus decoding) feeds an `AnalyserNode`;
 * the loudest voice above a threshold, held for a moment, is the active speaker.
 */

const THRESHOLD = 0.012; // RMS of the time-domain signal, about -38 dBFS
/** Samples analysed per tick: about 0.34 s at 48 kHz, more than the 250 ms between ticks, so
 * no sound falls between two looks. */
const WINDOW = 16384;
const SMOOTHING = 0.6;
/** A new speaker must be this much louder to take over before the hold time. */
const TAKEOVER = 1.6;
const HOLD_MS = 900;

interface Source {
  node: MediaStreamAudioSourceNode;
  analyser: AnalyserNode;
  buf: Float32Array<ArrayBuffer>;
  level: number;
}

export class SpeakerDetector {
  private ctx: AudioContext | null = null;
  private sources = new Map<string, Source>();
  private active: string | null = null;
  private activeSince = 0;
  private lastLoud = 0;

  /** Starts (or resumes) the audio context; call from a user gesture where possible. */
  resume(): void {
    try {
      this.ctx ??= new AudioContext();
      if (this.ctx.state === "suspended") void this.ctx.resume().catch(() => undefined);
    } catch {
      this.ctx = null;
    }
  }

  add(key: string, track: MediaStreamTrack): void {
    this.remove(key);
    this.resume();
    if (!this.ctx) return;
    const node = this.ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.ctx.createAnalyser();
    analyser.fftSize = WINDOW;
    node.connect(analyser);
    this.sources.set(key, { node, analyser, buf: new Float32Array(analyser.fftSize), level: 0 });
  }

  remove(key: string): void {
    const s = this.sources.get(key);
    if (!s) return;
    s.node.disconnect();
    this.sources.delete(key);
    if (this.active === key) this.active = null;
  }

  /**
   * Current smoothed levels (0..1), the active speaker among the others (the loudest voice,
   * held for a moment) and whether `local` (this participant's own microphone) is speaking;
   * the own voice never takes the stage from the others.
   */
  tick(now: number, local = "self"): { levels: Map<string, number>; active: string | null; localSpeaking: boolean } {
    const levels = new Map<string, number>();
    let loudest: string | null = null;
    let max = 0;
    for (const [key, s] of this.sources) {
      s.analyser.getFloatTimeDomainData(s.buf);
      let sum = 0;
      for (const x of s.buf) sum += x * x;
      const rms = Math.sqrt(sum / s.buf.length);
      s.level = SMOOTHING * s.level + (1 - SMOOTHING) * rms;
      levels.set(key, s.level);
      if (key !== local && s.level > max) {
        max = s.level;
        loudest = key;
      }
    }
    const current = this.active !== null ? (levels.get(this.active) ?? 0) : 0;
    if (current >= THRESHOLD) this.lastLoud = now;
    if (loudest !== null && max >= THRESHOLD && loudest !== this.active) {
      const held = now - this.activeSince < HOLD_MS && current >= THRESHOLD;
      if (!held || max > current * TAKEOVER) {
        this.active = loudest;
        this.activeSince = now;
        this.lastLoud = now;
      }
    } else if (this.active !== null && now - this.lastLoud > HOLD_MS * 2) {
      this.active = null;
    }
    return { levels, active: this.active, localSpeaking: (levels.get(local) ?? 0) >= THRESHOLD };
  }

  close(): void {
    for (const k of [...this.sources.keys()]) this.remove(k);
    void this.ctx?.close().catch(() => undefined);
    this.ctx = null;
  }
}
