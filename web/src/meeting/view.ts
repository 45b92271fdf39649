/** The in-meeting screen: header, banner, video stage, side panel and control bar. */

import { Banner, Header, type BannerModel, type HeaderModel } from "./chrome";
import type { DeviceLists } from "./devices";
import { h } from "./dom";
import { DevicePicker, PeoplePanel, type DeviceKind, type PersonModel } from "./panels";
import { Stage } from "./stage";
import type { Strings } from "./strings";
import type { TileModel } from "./tile";
import { Toolbar, type ToolbarActions, type ToolbarModel } from "./toolbar";

export interface CallModel {
  header: HeaderModel;
  tiles: TileModel[];
  /** Joined and nobody else is here. */
  alone: boolean;
  toolbar: ToolbarModel;
  /** Built only while the participant list is open. */
  people: () => PersonModel[];
  lists: DeviceLists;
  chosen: Record<DeviceKind, string | undefined>;
  canSpeaker: boolean;
  banner: BannerModel | null;
}

export interface CallActions extends ToolbarActions {
  verify(userId: string): void;
  closePanel(): void;
  device(kind: DeviceKind, id: string): void;
}

export class CallView {
  readonly el: HTMLDivElement;
  private readonly header = new Header();
  private readonly stage = new Stage();
  private readonly banner = new Banner();
  private readonly toolbar: Toolbar;
  private readonly people: PeoplePanel;
  private readonly devices: DevicePicker;
  private readonly side: HTMLElement;

  constructor(a: CallActions) {
    this.toolbar = new Toolbar(a);
    this.people = new PeoplePanel((userId) => a.verify(userId), () => a.closePanel());
    this.devices = new DevicePicker((kind, id) => a.device(kind, id), () => a.closePanel());
    this.side = h("aside.tm-side", {}, this.people.el, this.devices.el);
    this.el = h(
      "div.tm-call",
      {},
      this.header.el,
      this.banner.el,
      h("div.tm-body", {}, this.stage.el, this.side),
      this.toolbar.el,
    );
  }

  update(m: CallModel, s: Strings, now: number): void {
    this.header.update(m.header, s, now);
    this.stage.update(m.tiles, s, m.alone);
    this.toolbar.update(m.toolbar, s);
    const panel = m.toolbar.panel;
    this.side.hidden = panel === null;
    this.people.el.hidden = panel !== "people";
    this.devices.el.hidden = panel !== "devices";
    if (panel === "people") this.people.update(m.people(), s);
    if (panel === "devices") this.devices.update(m.lists, m.chosen, s, m.canSpeaker);
    this.banner.update(m.banner);
  }

  /** The CSS height each video tile is drawn at, by tile key. */
  tileHeights(): Map<string, number> {
    return this.stage.heights();
  }

  destroy(): void {
    this.stage.destroy();
  }
}
