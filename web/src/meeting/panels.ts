/** Side panels: the participant list and the device picker (also used before joining). */

import type { DeviceLists } from "./devices";
import { data, fill, h, hue, initials, setText } from "./dom";
import { icon } from "./icons";
import type { Strings } from "./strings";
import type { E2eeState } from "./tile";

export interface PersonModel {
  key: string;
  name: string;
  self: boolean;
  userId: string | null;
  verified: boolean;
  audioMuted: boolean;
  videoOff: boolean;
  hand: boolean;
  speaking: boolean;
  e2ee: E2eeState;
}

export class PeoplePanel {
  readonly el: HTMLElement;
  private readonly title: HTMLHeadingElement;
  private readonly list: HTMLUListElement;
  private last = "";

  constructor(private readonly onVerify: (userId: string) => void, onClose: () => void) {
    this.title = h("h2.tm-panel-title");
    this.list = h("ul.tm-people");
    const close = h("button.tm-icon-btn", { type: "button", "data-action": "close-panel", onclick: () => onClose() }, icon("close"));
    this.el = h("aside.tm-panel", { "data-panel": "people" }, h("div.tm-panel-head", {}, this.title, close), this.list);
  }

  update(people: PersonModel[], s: Strings): void {
    setText(this.title, `${s.participants} (${people.length})`);
    this.el.querySelector(".tm-icon-btn")?.setAttribute("aria-label", s.close);
    const key = JSON.stringify([people, s.you]);
    if (key === this.last) return;
    this.last = key;
    fill(this.list, ...people.map((p) => this.row(p, s)));
  }

  private row(p: PersonModel, s: Strings): HTMLLIElement {
    const avatar = h("span.tm-avatar.tm-avatar-sm", { "aria-hidden": "true" }, initials(p.name));
    avatar.style.setProperty("--tm-hue", String(hue(p.name)));
    const state =
      p.self
        ? null
        : h(
            `span.tm-person-e2ee.tm-e2ee-${p.e2ee}`,
            {},
            icon(p.e2ee === "ok" || p.e2ee === "pending" ? "lock" : "warning"),
            h("span", {}, { ok: s.e2eeOk, pending: s.e2eePending, failed: s.e2eeFailed, mismatch: s.e2eeMismatch }[p.e2ee]),
          );
    let verify: HTMLElement | null = null;
    if (!p.self && p.userId) {
      const userId = p.userId;
      verify = p.verified
        ? h("span.tm-verified", {}, icon("check"), s.verified)
        : h("button.tm-link", { type: "button", "data-action": "verify", onclick: () => this.onVerify(userId) }, s.verify);
    }
    const li = h(
      "li.tm-person",
      {},
      avatar,
      h("span.tm-person-main", {}, h("span.tm-person-name", {}, p.self ? `${p.name} (${s.you.toLowerCase()})` : p.name), state),
      h(
        "span.tm-person-icons",
        {},
        p.hand ? h("span.tm-hand", { role: "img", title: s.handRaised, "aria-label": s.handRaised }, icon("hand")) : null,
        p.audioMuted ? h("span", { title: s.micMuted }, icon("micOff")) : h("span", { title: s.microphone }, icon("mic")),
        p.videoOff ? h("span", { title: s.camOffLabel }, icon("camOff")) : h("span", { title: s.camera }, icon("cam")),
      ),
      verify,
    );
    li.classList.toggle("tm-speaking", p.speaking);
    li.classList.toggle("tm-hand-up", p.hand);
    data(li, "participant", p.key);
    data(li, "hand", p.hand);
    return li;
  }
}

export type DeviceKind = "audioIn" | "videoIn" | "audioOut";

export class DevicePicker {
  readonly el: HTMLElement;
  private readonly selects: Record<DeviceKind, HTMLSelectElement>;
  private readonly labels: Record<DeviceKind, HTMLSpanElement>;
  private readonly rows: Record<DeviceKind, HTMLLabelElement>;
  private readonly title: HTMLHeadingElement;

  constructor(onChange: (kind: DeviceKind, deviceId: string) => void, onClose: (() => void) | null) {
    const mk = (kind: DeviceKind) => {
      const select = h("select.tm-select", { "data-device": kind, onchange: () => onChange(kind, select.value) });
      const label = h("span.tm-field-label");
      const row = h("label.tm-field", {}, label, select);
      return { select, label, row };
    };
    const a = mk("audioIn");
    const v = mk("videoIn");
    const o = mk("audioOut");
    this.selects = { audioIn: a.select, videoIn: v.select, audioOut: o.select };
    this.labels = { audioIn: a.label, videoIn: v.label, audioOut: o.label };
    this.rows = { audioIn: a.row, videoIn: v.row, audioOut: o.row };
    this.title = h("h2.tm-panel-title");
    const head = h("div.tm-panel-head", {}, this.title);
    if (onClose) head.append(h("button.tm-icon-btn", { type: "button", "data-action": "close-panel", onclick: () => onClose() }, icon("close")));
    this.el = h("div.tm-devices", { "data-panel": "devices" }, head, v.row, a.row, o.row);
  }

  update(lists: DeviceLists, chosen: Record<DeviceKind, string | undefined>, s: Strings, canSpeaker: boolean): void {
    setText(this.title, s.settings);
    setText(this.labels.videoIn, s.camera);
    setText(this.labels.audioIn, s.microphone);
    setText(this.labels.audioOut, s.speaker);
    this.rows.audioOut.hidden = !canSpeaker || lists.audioOut.length === 0;
    this.fillSelect("videoIn", lists.videoIn, chosen.videoIn, s);
    this.fillSelect("audioIn", lists.audioIn, chosen.audioIn, s);
    this.fillSelect("audioOut", lists.audioOut, chosen.audioOut, s);
  }

  private fillSelect(kind: DeviceKind, devices: MediaDeviceInfo[], chosen: string | undefined, s: Strings): void {
    const sel = this.selects[kind];
    const opts: [string, string][] = devices
      .filter((d) => d.deviceId !== "")
      .map((d, i) => [d.deviceId, d.label || `${kind === "videoIn" ? s.camera : kind === "audioIn" ? s.microphone : s.speaker} ${i + 1}`]);
    if (opts.length === 0) opts.push(["", devices.length ? s.systemDefault : s.noDevice]);
    const key = JSON.stringify(opts);
    if (sel.dataset.options !== key) {
      sel.dataset.options = key;
      fill(sel, ...opts.map(([value, label]) => h("option", { value }, label)));
    }
    const want = chosen && opts.some(([v]) => v === chosen) ? chosen : (opts[0]?.[0] ?? "");
    if (sel.value !== want) sel.value = want;
    sel.disabled = opts.length === 1 && opts[0]![0] === "";
  }
}
