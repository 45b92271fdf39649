/**
 * Connection quality from `RTCPeerConnection.getStats()`: round-trip time and available
 * outgoing bitrate of the selected ICE candidate pair, packet loss (what this side receives,
 * and what the SFU reports receiving from it), and per received track the decoded frames.
 */

export type Quality = "good" | "fair" | "poor" | "unknown";

export interface LinkSample {
  quality: Quality;
  rttMs: number | null;
  /** Packet loss in percent over the last interval (worst direction). */
  lossPct: number | null;
  /** Bits per second the sender may use (congestion control estimate). */
  outBps: number | null;
  /** Camera simulcast layers being sent, e.g. `q:320x180 h:640x360 f:1280x720`. */
  layers: string;
}

/** Nothing measured (not connected). */
export const NO_LINK: LinkSample = { quality: "unknown", rttMs: null, lossPct: null, outBps: null, layers: "" };

export interface TrackSample {
  framesDecoded: number;
  fps: number | null;
  width: number | null;
  height: number | null;
  lossPct: number | null;
}

interface Totals {
  lost: number;
  received: number;
}

type Stat = Record<string, unknown> & { type: string; id: string };

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function rate(q: { rttMs: number | null; lossPct: number | null; outBps: number | null }): Quality {
  if (q.rttMs === null && q.lossPct === null) return "unknown";
  const rtt = q.rttMs ?? 0;
  const loss = q.lossPct ?? 0;
  const out = q.outBps;
  if (rtt > 400 || loss > 8 || (out !== null && out < 100_000)) return "poor";
  if (rtt > 200 || loss > 2 || (out !== null && out < 300_000)) return "fair";
  return "good";
}

export class StatsMonitor {
  private last = new Map<string, Totals>();

  constructor(private readonly pc: RTCPeerConnection) {}

  /** One sample; per-track figures are keyed by the receiving m-line's mid. */
  async sample(): Promise<{ link: LinkSample; tracks: Map<string, TrackSample> }> {
    const report = await this.pc.getStats();
    const stats: Stat[] = [];
    report.forEach((s: Stat) => stats.push(s));
    const byId = new Map(stats.map((s) => [s.id, s]));
    let pair: Stat | undefined;
    for (const s of stats) {
      if (s.type === "transport" && typeof s.selectedCandidatePairId === "string") {
        pair = byId.get(s.selectedCandidatePairId);
      }
    }
    pair ??= stats.find((s) => s.type === "candidate-pair" && s.nominated === true && s.state === "succeeded");
    let rttMs = pair ? num(pair.currentRoundTripTime) : null;
    if (rttMs !== null) rttMs = Math.round(rttMs * 1000);
    const outBps = pair ? num(pair.availableOutgoingBitrate) : null;

    let lost = 0;
    let received = 0;
    let remoteLoss: number | null = null;
    const tracks = new Map<string, TrackSample>();
    const layers: string[] = [];
    for (const s of stats) {
      if (s.type === "outbound-rtp" && s.kind === "video" && typeof s.rid === "string") {
        const w = num(s.frameWidth);
        const hgt = num(s.frameHeight);
        if (w && hgt) layers.push(`${s.rid}:${w}x${hgt}`);
      }
      if (s.type === "inbound-rtp") {
        const l = num(s.packetsLost) ?? 0;
        const r = num(s.packetsReceived) ?? 0;
        const prev = this.last.get(s.id) ?? { lost: 0, received: 0 };
        this.last.set(s.id, { lost: l, received: r });
        const dl = Math.max(0, l - prev.lost);
        const dr = Math.max(0, r - prev.received);
        lost += dl;
        received += dr;
        const mid = typeof s.mid === "string" ? s.mid : null;
        if (mid !== null && s.kind === "video") {
          tracks.set(mid, {
            framesDecoded: num(s.framesDecoded) ?? 0,
            fps: num(s.framesPerSecond),
            width: num(s.frameWidth),
            height: num(s.frameHeight),
            lossPct: dl + dr > 0 ? (100 * dl) / (dl + dr) : null,
          });
        }
      } else if (s.type === "remote-inbound-rtp") {
        const f = num(s.fractionLost);
        if (f !== null) remoteLoss = Math.max(remoteLoss ?? 0, f * 100);
        if (rttMs === null) {
          const r = num(s.roundTripTime);
          if (r !== null) rttMs = Math.round(r * 1000);
        }
      }
    }
    const localLoss = lost + received > 0 ? (100 * lost) / (lost + received) : null;
    const lossPct = localLoss === null && remoteLoss === null ? null : Math.max(localLoss ?? 0, remoteLoss ?? 0);
    layers.sort();
    const link = { rttMs, lossPct, outBps, layers: layers.join(" "), quality: "unknown" as Quality };
    link.quality = pair ? rate(link) : "unknown";
    return { link, tracks };
  }
}

export function formatBps(bps: number | null): string {
  if (bps === null) return "–";
  return bps >= 1_000_000 ? `${(bps / 1_000_000).toFixed(1)} Mbit/s` : `${Math.round(bps / 1000)} kbit/s`;
}
