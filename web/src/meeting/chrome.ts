/** The meeting's header (room, encryption, connection quality), banner and end screen. */

import { data, fill, h, setText } from "./dom";
import { icon } from "./icons";
import { formatBps, type LinkSample } from "./stats";
import type { Strings } from "./strings";

export interface HeaderModel {
  roomName: string;
  epoch: number | null;
  fingerprint: string | null;
  link: LinkSample;
  joinedAt: number | null;
  count: number;
  /** The media connection failed (signaling still works). */
  mediaFailed: boolean;
}

/** Groups a hex fingerprint as a short security code: "1a2b 3c4d 5e6f 7081". */
export function securityCode(hex: string | null): string {
  return (hex ?? "").replace(/(.{4})(?=.)/g, "$1 ");
}

function clock(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

export class Header {
  readonly el: HTMLElement;
  private readonly room: HTMLHeadingElement;
  private readonly count: HTMLSpanElement;
  private readonly timer: HTMLSpanElement;
  private readonly e2ee: HTMLSpanElement;
  private readonly e2eeText: HTMLSpanElement;
  private readonly quality: HTMLSpanElement;
  private readonly qualityText: HTMLSpanElement;

  constructor() {
    this.room = h("h1.tm-room");
    this.count = h("span.tm-header-count");
    this.timer = h("span.tm-timer");
    this.e2eeText = h("span");
    this.e2ee = h("span.tm-pill.tm-pill-e2ee", { tabindex: 0 }, icon("lock"), this.e2eeText);
    this.qualityText = h("span");
    this.quality = h("span.tm-pill.tm-pill-quality", { tabindex: 0 }, icon("signal"), this.qualityText);
    this.el = h(
      "header.tm-header",
      {},
      h("div.tm-header-title", {}, this.room, h("span.tm-header-sub", {}, this.count, this.timer)),
      h("div.tm-header-pills", {}, this.e2ee, this.quality),
    );
  }

  update(m: HeaderModel, s: Strings, now: number): void {
    setText(this.room, s.meeting);
    this.room.title = m.roomName;
    setText(this.count, s.count(m.count));
    setText(this.timer, m.joinedAt ? clock(now - m.joinedAt) : "");
    const keyed = m.epoch !== null;
    setText(this.e2eeText, keyed ? s.e2eeBadge : s.e2eeWaiting);
    this.e2ee.classList.toggle("tm-pill-wait", !keyed);
    this.e2ee.title = keyed ? s.e2eeDetail(m.epoch!, securityCode(m.fingerprint)) : s.e2eeWaiting;
    data(this.e2ee, "epoch", m.epoch);
    const q = m.mediaFailed ? "none" : m.link.quality;
    setText(this.qualityText, { good: s.qualityGood, fair: s.qualityFair, poor: s.qualityPoor, unknown: s.qualityUnknown, none: s.qualityNone }[q]);
    this.quality.className = `tm-pill tm-pill-quality tm-q-${q === "none" ? "poor" : q}`;
    const rtt = m.link.rttMs === null ? "–" : `${m.link.rttMs} ms`;
    const loss = m.link.lossPct === null ? "–" : `${m.link.lossPct.toFixed(1)} %`;
    this.quality.title = s.qualityDetail(rtt, loss, formatBps(m.link.outBps));
    data(this.quality, "quality", q);
    data(this.quality, "rtt", m.link.rttMs);
    data(this.quality, "loss", m.link.lossPct === null ? null : m.link.lossPct.toFixed(2));
    data(this.quality, "out-bps", m.link.outBps);
    data(this.quality, "layers", m.link.layers || null);
  }
}

export interface BannerModel {
  kind: "info" | "warn" | "error";
  text: string;
  action?: { label: string; run: () => void };
}

export class Banner {
  readonly el: HTMLDivElement;
  private key = "";

  constructor() {
    this.el = h("div.tm-banner", { role: "status", "aria-live": "polite" });
    this.el.hidden = true;
  }

  update(m: BannerModel | null): void {
    const key = m ? `${m.kind}|${m.text}|${m.action?.label ?? ""}` : "";
    if (key === this.key) return;
    this.key = key;
    this.el.hidden = !m;
    data(this.el, "kind", m?.kind ?? null);
    if (!m) return this.el.replaceChildren();
    fill(
      this.el,
      icon(m.kind === "info" ? "signal" : "warning"),
      h("span.tm-banner-text", {}, m.text),
      m.action ? h("button.tm-secondary.tm-small", { type: "button", "data-action": "banner", onclick: m.action.run }, m.action.label) : null,
    );
  }
}

export interface EndModel {
  kind: string;
  title: string;
  text: string;
  actions: { label: string; primary?: boolean; run: () => void }[];
}

/** The end screen for a join refused by the server, a removal, or meetings being unavailable. */
export function endModel(kind: "refused" | "removed" | "unavailable", s: Strings, close: () => void): EndModel {
  return {
    kind,
    title: kind === "removed" ? s.removedTitle : kind === "unavailable" ? s.joinFailed : s.refusedTitle,
    text: kind === "removed" ? s.removed : kind === "unavailable" ? s.unavailable : s.refusedMember,
    actions: [{ label: s.close, primary: true, run: close }],
  };
}

/** A full-view message for states that end the meeting view (refused, removed, unsupported). */
export function endScreen(m: EndModel): HTMLElement {
  return h(
    "div.tm-end",
    { role: "alert", "data-end": m.kind },
    h(
      "div.tm-end-card",
      {},
      h("div.tm-end-icon", {}, icon(m.kind === "left" ? "leave" : "warning")),
      h("h1.tm-end-title", {}, m.title),
      h("p.tm-end-text", {}, m.text),
      h(
        "div.tm-end-actions",
        {},
        ...m.actions.map((a) =>
          h(a.primary ? "button.tm-primary" : "button.tm-secondary", { type: "button", "data-action": "end", onclick: a.run }, a.label),
        ),
      ),
    ),
  );
}
