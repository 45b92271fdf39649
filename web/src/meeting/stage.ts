/**
 * The video stage: a grid sized to fit every tile at 16:9 into the space available (so it
 * adapts both to the number of people and to narrow screens), or, while someone shares their
 * screen, the screen large with the cameras in a strip beside it (below it on narrow screens).
 */

import { data, h, setText } from "./dom";
import type { Strings } from "./strings";
import { TileView, type TileModel } from "./tile";

const GAP = 8;
const ASPECT = 16 / 9;

/** Columns giving the largest 16:9 tiles for `n` tiles in `w`×`h`. */
export function bestColumns(n: number, w: number, hgt: number): { cols: number; tileW: number } {
  let best = { cols: 1, tileW: 0 };
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(n / cols);
    const byW = (w - (cols - 1) * GAP) / cols;
    const byH = ((hgt - (rows - 1) * GAP) / rows) * ASPECT;
    const tileW = Math.floor(Math.min(byW, byH));
    if (tileW > best.tileW) best = { cols, tileW };
  }
  return best;
}

export class Stage {
  readonly el: HTMLDivElement;
  private readonly grid: HTMLDivElement;
  private readonly main: HTMLDivElement;
  private readonly empty: HTMLParagraphElement;
  private tiles = new Map<string, TileView>();
  private observer: ResizeObserver;
  private shape = "";

  constructor() {
    this.main = h("div.tm-stage-main");
    this.grid = h("div.tm-grid");
    this.empty = h("p.tm-alone");
    this.el = h("div.tm-stage", {}, this.main, this.grid, this.empty);
    this.observer = new ResizeObserver(() => this.layout());
    this.observer.observe(this.el);
  }

  /** `alone`: show the hint that nobody else is here (only once joined). */
  update(models: TileModel[], s: Strings, alone: boolean): void {
    const seen = new Set<string>();
    const screen = models.find((m) => m.screen) ?? null;
    for (const m of models) {
      seen.add(m.key);
      let t = this.tiles.get(m.key);
      if (!t) {
        t = new TileView(m.key);
        this.tiles.set(m.key, t);
      }
      t.update(m, s);
      const parent = m === screen ? this.main : this.grid;
      if (t.el.parentElement !== parent) parent.append(t.el);
    }
    for (const [key, t] of this.tiles) {
      if (!seen.has(key)) {
        t.destroy();
        this.tiles.delete(key);
      }
    }
    // Keep DOM order equal to model order (stable layout).
    const order = models.filter((m) => m !== screen).map((m) => this.tiles.get(m.key)!.el);
    order.forEach((el, i) => {
      if (this.grid.children[i] !== el) this.grid.insertBefore(el, this.grid.children[i] ?? null);
    });
    const presenting = screen !== null;
    this.el.classList.toggle("tm-presenting", presenting);
    data(this.el, "layout", presenting ? "presentation" : "grid");
    this.empty.hidden = !alone || models.some((m) => !m.self);
    setText(this.empty, s.alone);
    const shape = `${presenting}:${order.length}:${this.empty.hidden}`;
    if (this.shape !== shape) {
      this.shape = shape;
      this.layout();
    }
  }

  private layout(): void {
    const n = this.grid.children.length;
    if (n === 0) return;
    const presenting = this.el.classList.contains("tm-presenting");
    const narrow = this.el.clientWidth < 700;
    if (presenting) {
      // The strip: one column of full-width tiles (wide) or a scrolling row (narrow).
      this.grid.style.setProperty("--tm-tile-w", narrow ? "150px" : "100%");
      return;
    }
    const { tileW } = bestColumns(n, Math.max(this.grid.clientWidth, 1), Math.max(this.grid.clientHeight, 1));
    this.grid.style.setProperty("--tm-tile-w", `${Math.max(120, tileW)}px`);
  }

  /** The CSS height each tile is drawn at, by tile key (0: not shown). */
  heights(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, t] of this.tiles) out.set(key, t.el.isConnected ? t.el.getBoundingClientRect().height : 0);
    return out;
  }

  destroy(): void {
    this.observer.disconnect();
    for (const t of this.tiles.values()) t.destroy();
    this.tiles.clear();
  }
}
