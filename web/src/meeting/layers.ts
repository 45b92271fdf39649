/**
 * Which simulcast layer to ask the SFU for, per received camera track: the one that fits the
 * size the tile is drawn at (`meeting_layer`). The SFU forwards the largest layer not above the
 * request that its bandwidth estimate allows, so this is an upper bound. Screen shares are sent
 * in one encoding and are left alone.
 *
 * Heights are in device pixels (CSS height × `devicePixelRatio`); the camera's layers are ¼, ½
 * and full resolution (`CAMERA_LAYERS`), so a tile up to 240 px tall gets `low`, up to 540 px
 * `medium`, anything larger `high`. A changed choice is sent once it held for `SETTLE_MS` (a
 * layout that is still moving does not send a burst); an unchanged one is never sent again.
 */

import type { RemoteTrack } from "./session";

export type Layer = "low" | "medium" | "high";

const LOW_MAX_PX = 240;
const MEDIUM_MAX_PX = 540;
const SETTLE_MS = 600;

export function chooseLayer(heightPx: number): Layer {
  if (heightPx <= LOW_MAX_PX) return "low";
  if (heightPx <= MEDIUM_MAX_PX) return "medium";
  return "high";
}

/** A received camera track and the CSS height of the tile showing it (0: not shown). */
export interface ShownCamera {
  track: RemoteTrack;
  cssHeight: number;
}

interface State {
  sent: Layer | null;
  want: Layer;
  since: number;
}

export class LayerRequests {
  private state = new Map<string, State>();

  /** The layer last requested for a track (shown on its tile), or null. */
  requested(t: RemoteTrack): Layer | null {
    return this.state.get(t.localMid)?.sent ?? null;
  }

  /**
   * Updates the choice for every shown camera and sends what changed with `send`; tracks no
   * longer shown are forgotten (a track that comes back is asked for again).
   */
  update(cams: ShownCamera[], now: number, send: (t: RemoteTrack, layer: Layer) => boolean): void {
    const ratio = typeof devicePixelRatio === "number" && devicePixelRatio > 0 ? devicePixelRatio : 1;
    const seen = new Set<string>();
    for (const { track, cssHeight } of cams) {
      if (track.publisherMid === null || track.kind !== "video") continue;
      seen.add(track.localMid);
      const want = chooseLayer(cssHeight * ratio);
      let s = this.state.get(track.localMid);
      if (!s) {
        s = { sent: null, want, since: now };
        this.state.set(track.localMid, s);
      } else if (s.want !== want) {
        s.want = want;
        s.since = now;
      }
      if (s.sent !== s.want && now - s.since >= SETTLE_MS && send(track, s.want)) s.sent = s.want;
    }
    for (const mid of [...this.state.keys()]) if (!seen.has(mid)) this.state.delete(mid);
  }

  /** Forgets every choice (a new session starts from the SFU's default, so all are sent again). */
  clear(): void {
    this.state.clear();
  }
}
