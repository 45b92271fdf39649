/** Before joining: camera preview, device choice, and what to do when devices are unavailable. */

import { canChooseSpeaker, type DeviceLists, type MediaProblem } from "./devices";
import type { LocalMedia } from "./local";
import { data, fill, h, hue, initials, setText } from "./dom";
import { icon } from "./icons";
import { DevicePicker, type DeviceKind } from "./panels";
import type { Strings } from "./strings";

export interface LobbyModel {
  roomName: string;
  name: string;
  video: MediaStreamTrack | null;
  micOn: boolean;
  camOn: boolean;
  hasMic: boolean;
  hasCam: boolean;
  audioProblem: MediaProblem | null;
  videoProblem: MediaProblem | null;
  preparing: boolean;
  joining: boolean;
  /** Set when the browser cannot encrypt media: joining is impossible. */
  blocked: boolean;
  error: string | null;
  lists: DeviceLists;
  chosen: Record<DeviceKind, string | undefined>;
  canSpeaker: boolean;
}

/** The lobby's model from this participant's media state. */
export function lobbyModel(
  roomName: string,
  name: string,
  local: LocalMedia,
  preparing: boolean,
  blocked: boolean,
  lists: DeviceLists,
  chosen: Record<DeviceKind, string | undefined>,
): LobbyModel {
  return {
    roomName,
    name,
    video: local.video,
    micOn: local.micOn,
    camOn: local.camOn,
    hasMic: !!local.audio,
    hasCam: !!local.video,
    audioProblem: local.audioProblem,
    videoProblem: local.videoProblem,
    preparing,
    joining: false,
    blocked,
    error: null,
    lists,
    chosen,
    canSpeaker: canChooseSpeaker(),
  };
}

export interface LobbyActions {
  join(): void;
  cancel(): void;
  retry(): void;
  mic(): void;
  cam(): void;
  device(kind: DeviceKind, id: string): void;
}

export class Lobby {
  readonly el: HTMLDivElement;
  private readonly video: HTMLVideoElement;
  private readonly avatar: HTMLDivElement;
  private readonly preview: HTMLDivElement;
  private readonly title: HTMLHeadingElement;
  private readonly room: HTMLParagraphElement;
  private readonly hint: HTMLParagraphElement;
  private readonly notice: HTMLDivElement;
  private readonly micBtn: HTMLButtonElement;
  private readonly camBtn: HTMLButtonElement;
  private readonly joinBtn: HTMLButtonElement;
  private readonly cancelBtn: HTMLButtonElement;
  private readonly picker: DevicePicker;
  private track: MediaStreamTrack | null = null;
  private noticeKey = "";

  constructor(private readonly a: LobbyActions) {
    this.video = h("video.tm-video.tm-mirror", { autoplay: true, playsinline: true });
    this.video.muted = true;
    this.video.addEventListener("playing", () => data(this.preview, "playing", true));
    this.video.addEventListener("emptied", () => data(this.preview, "playing", null));
    this.avatar = h("div.tm-avatar", { "aria-hidden": "true" });
    this.micBtn = h("button.tm-btn.tm-round", { type: "button", "data-action": "lobby-mic", onclick: () => a.mic() });
    this.camBtn = h("button.tm-btn.tm-round", { type: "button", "data-action": "lobby-camera", onclick: () => a.cam() });
    this.preview = h(
      "div.tm-preview",
      {},
      h("div.tm-avatar-wrap", {}, this.avatar),
      this.video,
      h("div.tm-preview-controls", {}, this.micBtn, this.camBtn),
    );
    this.title = h("h1.tm-lobby-title");
    this.room = h("p.tm-lobby-room");
    this.hint = h("p.tm-lobby-hint");
    this.notice = h("div.tm-notice", { role: "alert" });
    this.picker = new DevicePicker((kind, id) => a.device(kind, id), null);
    this.joinBtn = h("button.tm-primary", { type: "button", "data-action": "join", onclick: () => a.join() });
    this.cancelBtn = h("button.tm-secondary", { type: "button", "data-action": "cancel", onclick: () => a.cancel() });
    this.el = h(
      "div.tm-lobby",
      {},
      this.preview,
      h(
        "div.tm-lobby-side",
        {},
        this.room,
        this.title,
        this.hint,
        this.notice,
        h("div.tm-lobby-actions", {}, this.joinBtn, this.cancelBtn),
        this.picker.el,
      ),
    );
  }

  update(m: LobbyModel, s: Strings): void {
    if (m.video !== this.track) {
      this.track = m.video;
      this.video.srcObject = m.video ? new MediaStream([m.video]) : null;
      if (m.video) void this.video.play().catch(() => undefined);
    }
    this.preview.classList.toggle("tm-video-on", !!m.video && m.camOn);
    setText(this.avatar, initials(m.name));
    this.avatar.style.setProperty("--tm-hue", String(hue(m.name)));
    setText(this.room, m.roomName);
    setText(this.title, s.lobbyTitle);
    setText(this.hint, m.preparing ? s.preparing : s.lobbyHint);
    this.setToggle(this.micBtn, m.micOn && m.hasMic, m.micOn ? "mic" : "micOff", m.micOn ? s.micOn : s.micOff, !m.hasMic);
    this.setToggle(this.camBtn, m.camOn && m.hasCam, m.camOn ? "cam" : "camOff", m.camOn ? s.camOn : s.camOff, !m.hasCam);
    this.picker.update(m.lists, m.chosen, s, m.canSpeaker);
    this.renderNotice(m, s);
    const label = m.joining ? s.joining : !m.hasMic && !m.hasCam ? s.joinWithout : !m.hasCam ? s.joinAudioOnly : s.join;
    setText(this.joinBtn, label);
    this.joinBtn.disabled = m.joining || m.preparing || m.blocked;
    setText(this.cancelBtn, s.cancel);
    data(this.el, "preparing", m.preparing);
  }

  private setToggle(b: HTMLButtonElement, on: boolean, iconName: "mic" | "micOff" | "cam" | "camOff", label: string, disabled: boolean): void {
    const key = `${iconName}|${label}|${disabled}`;
    if (b.dataset.key === key) return;
    b.dataset.key = key;
    fill(b, icon(disabled ? (iconName.startsWith("mic") ? "micOff" : "camOff") : iconName));
    b.title = label;
    b.setAttribute("aria-label", label);
    b.setAttribute("aria-pressed", String(!on));
    b.classList.toggle("tm-off", !on);
    b.disabled = disabled;
  }

  private renderNotice(m: LobbyModel, s: Strings): void {
    let title = "";
    let text = "";
    let retry = false;
    if (m.blocked) {
      text = s.noE2ee;
    } else if (m.error) {
      text = m.error;
    } else if (m.audioProblem === "denied" && m.videoProblem === "denied") {
      title = s.permDeniedTitle;
      text = s.permDenied;
      retry = true;
    } else if (m.videoProblem === "denied") {
      text = s.camDenied;
      retry = true;
    } else if (m.audioProblem === "denied") {
      text = s.micDenied;
      retry = true;
    } else if (m.audioProblem || m.videoProblem) {
      const p = m.audioProblem ?? m.videoProblem;
      text = p === "notfound" ? s.notFound : p === "inuse" ? s.inUse : s.mediaOther;
      retry = p !== "notfound";
    }
    const key = `${title}|${text}|${retry}`;
    if (key === this.noticeKey) return;
    this.noticeKey = key;
    this.notice.hidden = !text;
    const kind = m.blocked || m.error ? "error" : m.audioProblem === "denied" || m.videoProblem === "denied" ? "warn" : "info";
    data(this.notice, "kind", text ? kind : null);
    data(this.notice, "problem", m.blocked ? "no-e2ee" : (m.audioProblem ?? m.videoProblem));
    fill(
      this.notice,
      title ? h("strong.tm-notice-title", {}, title) : null,
      h("p", {}, text),
      retry ? h("button.tm-secondary.tm-small", { type: "button", "data-action": "retry-devices", onclick: () => this.a.retry() }, s.retry) : null,
    );
  }

  destroy(): void {
    this.video.srcObject = null;
    this.el.remove();
  }
}
