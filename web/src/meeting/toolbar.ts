/** The meeting's control bar. */

import { data, h, setText } from "./dom";
import { icon, type IconName } from "./icons";
import type { Strings } from "./strings";

export interface ToolbarModel {
  micOn: boolean;
  camOn: boolean;
  sharing: boolean;
  hand: boolean;
  /** In the meeting (a hand can be raised). */
  canHand: boolean;
  panel: "people" | "devices" | null;
  canShare: boolean;
  count: number;
  busy: boolean;
}

export interface ToolbarActions {
  mic(): void;
  cam(): void;
  share(): void;
  hand(): void;
  people(): void;
  devices(): void;
  leave(): void;
}

class Button {
  readonly el: HTMLButtonElement;
  private readonly label: HTMLSpanElement;
  private iconName: IconName | null = null;

  constructor(action: string, onClick: () => void, extra = "") {
    this.label = h("span.tm-btn-label");
    this.el = h(`button.tm-btn${extra}`, { type: "button", "data-action": action, onclick: () => onClick() }, this.label);
  }

  set(iconName: IconName, label: string, state: { pressed?: boolean; off?: boolean; disabled?: boolean } = {}): void {
    if (this.iconName !== iconName) {
      this.iconName = iconName;
      this.el.querySelector("svg")?.remove();
      this.el.prepend(icon(iconName));
    }
    setText(this.label, label);
    this.el.title = label;
    this.el.setAttribute("aria-label", label);
    if (state.pressed !== undefined) this.el.setAttribute("aria-pressed", String(state.pressed));
    this.el.classList.toggle("tm-off", !!state.off);
    this.el.disabled = !!state.disabled;
  }
}

export class Toolbar {
  readonly el: HTMLDivElement;
  private readonly mic: Button;
  private readonly cam: Button;
  private readonly share: Button;
  private readonly hand: Button;
  private readonly people: Button;
  private readonly count: HTMLSpanElement;
  private readonly devices: Button;
  private readonly leave: Button;

  constructor(a: ToolbarActions) {
    this.mic = new Button("mic", a.mic);
    this.cam = new Button("camera", a.cam);
    this.share = new Button("share", a.share);
    this.hand = new Button("hand", a.hand);
    this.people = new Button("people", a.people);
    this.count = h("span.tm-count");
    this.people.el.append(this.count);
    this.devices = new Button("devices", a.devices);
    this.leave = new Button("leave", a.leave, ".tm-leave");
    this.el = h(
      "div.tm-toolbar",
      { role: "toolbar" },
      h("div.tm-toolbar-group", {}, this.mic.el, this.cam.el, this.share.el, this.hand.el),
      h("div.tm-toolbar-group", {}, this.people.el, this.devices.el),
      h("div.tm-toolbar-group", {}, this.leave.el),
    );
  }

  update(m: ToolbarModel, s: Strings): void {
    this.mic.set(m.micOn ? "mic" : "micOff", m.micOn ? s.micOn : s.micOff, { pressed: !m.micOn, off: !m.micOn });
    this.cam.set(m.camOn ? "cam" : "camOff", m.camOn ? s.camOn : s.camOff, { pressed: !m.camOn, off: !m.camOn });
    this.share.set(m.sharing ? "screenOff" : "screen", m.sharing ? s.shareStop : s.shareStart, {
      pressed: m.sharing,
      disabled: !m.canShare || m.busy,
    });
    this.share.el.classList.toggle("tm-active", m.sharing);
    this.hand.set("hand", m.hand ? s.handLower : s.handRaise, { pressed: m.hand, disabled: !m.canHand });
    this.hand.el.classList.toggle("tm-active", m.hand);
    this.people.set("people", s.participants, { pressed: m.panel === "people" });
    setText(this.count, String(m.count));
    this.devices.set("sliders", s.settings, { pressed: m.panel === "devices" });
    this.leave.set("leave", s.leave);
    data(this.el, "mic", m.micOn ? "on" : "off");
    data(this.el, "camera", m.camOn ? "on" : "off");
  }
}
