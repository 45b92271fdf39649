/**
 * The meeting view's controller: lobby → join → in the meeting → leave, rejoining after the
 * app's WebSocket reconnects or the media path fails. Owns the media session, the media worker,
 * the local devices and the views; renders from its state four times a second.
 */

import { endModel, endScreen, type BannerModel } from "./chrome";
import { canChooseSpeaker, listDevices, onDeviceChange, type DeviceLists } from "./devices";
import { h } from "./dom";
import { MediaE2ee, transformMode, type TransformMode } from "./e2ee";
import type { MeetingHost, MeetingView } from "./host";
import { RemoteAudio } from "./audio";
import { LayerRequests } from "./layers";
import { LocalMedia } from "./local";
import { Lobby, lobbyModel } from "./lobby";
import type { DeviceKind } from "./panels";
import { Roster, type SelfState } from "./roster";
import { Session, type SessionEvents } from "./session";
import { ScreenShare } from "./share";
import { SpeakerDetector } from "./speaker";
import { NO_LINK, StatsMonitor, type LinkSample } from "./stats";
import { strings, type Strings } from "./strings";
import { CallView } from "./view";

type Phase = "lobby" | "joining" | "joined" | "reconnecting" | "failed" | "ended";

const TICK_MS = 250;
const STATS_MS = 2000;
const NOTE_MS = 6000;

export class MeetingController implements MeetingView {
  private s: Strings;
  private phase: Phase = "lobby";
  private readonly root: HTMLDivElement;
  private readonly call: CallView;
  private lobby: Lobby | null;
  private readonly local = new LocalMedia();
  private readonly roster = new Roster();
  private readonly speaker = new SpeakerDetector();
  private readonly audio = new RemoteAudio(this.speaker);
  private readonly layers = new LayerRequests();
  private readonly share: ScreenShare;
  private readonly mode = transformMode();
  /** Resolves once the key port is attached (`false`: this device may not join). */
  private readonly keys: Promise<boolean> | null;
  private e2ee: MediaE2ee | null = null;
  private session: Session | null = null;
  private monitor: StatsMonitor | null = null;
  private selfId: number | null = null;
  private epoch: number | null = null;
  private fingerprint: string | null = null;
  private link: LinkSample = NO_LINK;
  private joinedAt: number | null = null;
  /** This participant's hand, as the server echoed it (kept up across a rejoin). */
  private hand = false;
  private panel: "people" | "devices" | null = null;
  private problem: BannerModel | null = null;
  private note: { model: BannerModel; until: number } | null = null;
  private lists: DeviceLists = { audioIn: [], videoIn: [], audioOut: [] };
  private preparing = true;
  private wsUp = true;
  private done = false;
  private readonly unsubs: (() => void)[] = [];
  private readonly timers: ReturnType<typeof setInterval>[] = [];

  constructor(el: HTMLElement, private readonly host: MeetingHost) {
    this.s = strings(host.lang());
    this.roster.layerOf = (t) => this.layers.requested(t);
    this.share = new ScreenShare(this.local, {
      session: () => this.session,
      failed: () => this.flash(this.s.screenFailed),
      changed: () => this.render(),
    });
    this.call = new CallView({
      mic: () => void this.toggleMic(),
      cam: () => void this.toggleCam(),
      share: () => void this.share.toggle(),
      hand: () => this.toggleHand(),
      people: () => this.togglePanel("people"),
      devices: () => this.togglePanel("devices"),
      leave: () => void this.leave(),
      verify: (userId) => host.verifyUser(userId),
      closePanel: () => this.togglePanel(null),
      device: (kind, id) => void this.chooseDevice(kind, id),
    });
    this.lobby = new Lobby({
      join: () => void this.join(),
      cancel: () => void this.leave(),
      retry: () => void this.prepare(),
      mic: () => void this.toggleMic(),
      cam: () => void this.toggleCam(),
      device: (kind, id) => void this.chooseDevice(kind, id),
    });
    this.root = h("div.tm-root", { "data-state": "lobby" }, this.lobby.el, this.audio.el);
    el.replaceChildren(this.root);
    this.unsubs.push(
      host.onLang((l) => {
        this.s = strings(l);
        this.render();
      }),
      host.onConnection((up) => this.onConnection(up)),
      onDeviceChange(() => void this.refreshDevices()),
    );
    this.timers.push(setInterval(() => this.tick(), TICK_MS), setInterval(() => void this.sampleStats(), STATS_MS));
    this.keys = this.mode ? this.setupKeys(this.mode) : null;
    void this.prepare();
  }

  // --- lifecycle ----------------------------------------------------------------------------

  private async prepare(): Promise<void> {
    this.preparing = true;
    this.render();
    if (this.mode && (await this.keys) && !this.done) await this.local.start();
    if (this.done) return this.local.stopAll();
    this.preparing = false;
    await this.refreshDevices();
    this.syncSelfAudio();
    this.render();
  }

  /**
   * Starts the media worker and asks the crypto worker for the room's keys while the lobby is
   * shown: a device that is not in the room's group is told so before any camera is asked for,
   * and joining does not wait for the crypto module to load.
   */
  private setupKeys(mode: TransformMode): Promise<boolean> {
    // Which encoded-frame API carries the SFrame transform ("script" or "streams"): for support.
    this.root.dataset.e2eeApi = mode;
    this.e2ee = new MediaE2ee(mode, {
      epoch: (epoch, fp) => {
        this.epoch = epoch;
        this.fingerprint = fp;
      },
      members: (m) => (this.roster.members = m),
      left: () => this.end("removed"),
      stats: (streams) => {
        for (const c of streams) this.roster.counters.set(c.id, c);
      },
      error: (message) => console.warn("meeting media worker:", message),
    });
    this.host.members().then((m) => (this.roster.members = m), () => undefined);
    return this.host.mediaKeyPort().then(
      (port) => {
        this.e2ee?.attachKeys(port);
        return true;
      },
      (e: unknown) => {
        console.warn("meeting keys unavailable", e);
        this.end("refused");
        return false;
      },
    );
  }

  private async join(): Promise<void> {
    if (!this.keys || this.phase !== "lobby") return;
    this.speaker.resume();
    if (!this.local.audio && !this.local.video) this.local.dropDevices();
    this.phase = "joining";
    this.lobby?.destroy();
    this.lobby = null;
    this.root.prepend(this.call.el);
    this.render();
    if (await this.keys) this.startSession();
  }

  private startSession(): void {
    if (!this.e2ee || this.done) return;
    this.closeSession(false);
    if (!this.wsUp) {
      // Joins as soon as the app's WebSocket is back (onConnection).
      this.phase = "reconnecting";
      this.problem = { kind: "warn", text: this.s.reconnecting };
      return;
    }
    const events = this.sessionEvents();
    const video = this.local.camOn ? this.local.video : null;
    const session = new Session(this.host, this.e2ee, events, { stream: this.local.stream, audio: this.local.audio, video });
    this.session = session;
    this.local.sink = session;
    this.monitor = new StatsMonitor(session.pc);
    session.join();
  }

  /** Ends the current session (politely if `leave`) and forgets everyone in it. */
  private closeSession(leave: boolean): void {
    const s = this.session;
    if (!s) return;
    this.session = null;
    this.monitor = null;
    this.link = NO_LINK;
    this.local.sink = null;
    if (leave) s.leave();
    else s.close();
    this.audio.clear();
    this.roster.clear();
    this.layers.clear();
    this.selfId = null;
  }

  private rejoin(): void {
    if (this.done || !this.e2ee) return;
    this.closeSession(true);
    this.phase = "reconnecting";
    if (this.wsUp) {
      this.problem = { kind: "info", text: this.s.rejoining };
      this.startSession();
    } else {
      this.problem = { kind: "warn", text: this.s.reconnecting };
    }
    this.render();
  }

  private onConnection(up: boolean): void {
    this.wsUp = up;
    if (this.phase === "lobby" || this.done) return;
    if (!up) {
      // The server drops the media session with the WebSocket; rejoin when it is back.
      this.closeSession(false);
      this.phase = "reconnecting";
      this.problem = { kind: "warn", text: this.s.reconnecting };
    } else if (this.phase === "reconnecting" || this.phase === "failed") {
      this.rejoin();
    }
    this.render();
  }

  private sessionEvents(): SessionEvents {
    const live = () => this.session !== null && !this.done;
    return {
      joined: (selfId, peers) => {
        if (!live()) return;
        this.phase = "joined";
        this.selfId = selfId;
        this.joinedAt ??= Date.now();
        this.problem = null;
        for (const p of peers) this.roster.ensure(p.participantId, p.deviceId);
        this.announce();
        if (this.hand) this.session?.raiseHand(true); // a new participant id: raise it again
        if (this.session) this.share.resume(this.session);
        this.render();
      },
      refused: (code) => this.end(code === "unavailable" ? "unavailable" : "refused"),
      failed: (message) => {
        if (!live()) return;
        console.warn("meeting:", message);
        this.mediaFailed();
      },
      peerJoined: (p) => {
        this.roster.ensure(p.participantId, p.deviceId);
        this.render();
      },
      peerLeft: (id) => {
        const p = this.roster.remove(id);
        if (p) this.audio.remove(p.key);
        this.render();
      },
      remoteTrack: (t) => {
        this.roster.addTrack(t, this.audio, () => this.render());
        this.render();
      },
      remoteTrackGone: (t) => {
        this.roster.removeTrack(t, this.audio);
        this.render();
      },
      muted: (id, audio, video) => {
        const p = this.roster.ensure(id);
        p.audioMuted = audio;
        p.videoOff = video;
        this.render();
      },
      hand: (id, raised) => {
        if (id === this.selfId) this.hand = raised;
        else this.roster.setHand(id, raised, Date.now());
        this.render();
      },
      ended: (reason) => (reason === "removed" ? this.end("removed") : this.mediaFailed()),
      lost: () => this.rejoin(),
      connection: (state) => {
        if (state === "failed") this.mediaFailed();
        else if (state === "disconnected") this.problem = { kind: "warn", text: this.s.mediaUnstable };
        else if (state === "connected" && this.phase === "joined") this.problem = null;
        this.render();
      },
    };
  }

  private mediaFailed(): void {
    if (this.done) return;
    this.closeSession(true);
    this.phase = "failed";
    this.problem = {
      kind: "error",
      text: `${this.s.mediaFailedTitle}. ${this.s.mediaFailed}`,
      action: { label: this.s.retry, run: () => this.rejoin() },
    };
    this.render();
  }

  /** Ends the view with a message (refused, removed, unavailable). */
  private end(kind: "refused" | "removed" | "unavailable"): void {
    if (this.done) return;
    this.closeSession(kind !== "removed");
    this.phase = "ended";
    this.cleanup();
    const m = endModel(kind, this.s, () => this.closed());
    this.root.replaceChildren(endScreen(m));
    this.root.dataset.state = kind;
  }

  async leave(): Promise<void> {
    if (this.done) return;
    this.closeSession(true);
    this.phase = "ended";
    this.root.dataset.state = "left";
    this.cleanup();
    this.closed();
  }

  private cleanup(): void {
    this.done = true;
    for (const u of this.unsubs.splice(0)) u();
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.local.stopAll();
    this.speaker.close();
    this.e2ee?.close();
    this.e2ee = null;
    this.call.destroy();
    this.lobby?.destroy();
    this.audio.clear();
  }

  private closedSent = false;
  private closed(): void {
    if (this.closedSent) return;
    this.closedSent = true;
    this.host.closed();
  }

  // --- actions ------------------------------------------------------------------------------

  private announce(): void {
    this.session?.announceMute(!this.local.micOn || !this.local.audio, !this.local.camOn || !this.local.video);
  }

  private async toggleMic(): Promise<void> {
    try {
      await this.local.toggleMic();
    } catch {
      this.flash(this.s.micDenied);
    }
    this.syncSelfAudio();
    this.announce();
    this.render();
  }

  private async toggleCam(): Promise<void> {
    try {
      await this.local.toggleCam();
    } catch {
      this.flash(this.local.videoProblem === "denied" ? this.s.camDenied : this.s.deviceFailed);
    }
    this.announce();
    this.render();
  }

  /** Asks the server to raise or lower the hand; `hand` follows its echo. */
  private toggleHand(): void {
    if (this.phase === "joined") this.session?.raiseHand(!this.hand);
  }

  private togglePanel(panel: "people" | "devices" | null): void {
    this.panel = this.panel === panel ? null : panel;
    if (this.panel === "devices") void this.refreshDevices();
    this.render();
  }

  private async chooseDevice(kind: DeviceKind, id: string): Promise<void> {
    if (kind === "audioOut") {
      this.local.choice.audioOut = id;
      this.audio.setSink(id);
      return;
    }
    try {
      await this.local.switchDevice(kind === "audioIn" ? "audio" : "video", id);
    } catch {
      this.flash(this.s.deviceFailed);
    }
    this.syncSelfAudio();
    this.render();
  }

  private async refreshDevices(): Promise<void> {
    this.lists = await listDevices();
    this.render();
  }

  private syncSelfAudio(): void {
    if (this.local.audio && this.local.micOn) this.speaker.add("self", this.local.audio);
    else this.speaker.remove("self");
  }

  private flash(text: string, kind: BannerModel["kind"] = "warn"): void {
    this.note = { model: { kind, text }, until: Date.now() + NOTE_MS };
    this.render();
  }

  // --- rendering ----------------------------------------------------------------------------

  private tick(): void {
    const { active, localSpeaking } = this.speaker.tick(performance.now());
    this.roster.activeSpeaker = active;
    this.roster.selfSpeaking = localSpeaking;
    this.render();
    this.requestLayers();
  }

  /** Asks the SFU for the simulcast layer that fits each remote camera's tile. */
  private requestLayers(): void {
    const session = this.session;
    if (!session?.joined || this.phase !== "joined") return;
    const heights = this.call.tileHeights();
    const cams = [...this.roster.people.values()].flatMap((p) => {
      const track = this.roster.camera(p);
      return track && this.roster.isCamera(track) ? [{ track, cssHeight: heights.get(p.key) ?? 0 }] : [];
    });
    this.layers.update(cams, Date.now(), (t, layer) => session.requestLayer(t, layer));
  }

  private async sampleStats(): Promise<void> {
    const m = this.monitor;
    if (!m || this.phase !== "joined") return;
    try {
      const { link, tracks } = await m.sample();
      if (m !== this.monitor) return;
      this.link = link;
      this.roster.trackStats = tracks;
    } catch {
      // the connection closed meanwhile
    }
  }

  private selfState(): SelfState {
    return {
      name: this.host.self.name,
      participantId: this.selfId,
      video: this.local.camOn ? this.local.video : null,
      screen: this.local.screen?.track ?? null,
      micOn: this.local.micOn && !!this.local.audio,
      camOn: this.local.camOn && !!this.local.video,
      hand: this.hand,
      sendIds: this.session?.sendIds ?? null,
    };
  }

  private render(): void {
    if (this.done) return;
    const s = this.s;
    const now = Date.now();
    const self = this.selfState();
    this.root.dataset.state = this.phase;
    this.root.dataset.participantId = this.selfId === null ? "" : String(this.selfId);
    // The devices actually captured now (not merely chosen): for support and tests.
    this.root.dataset.audioIn = this.local.audio?.getSettings().deviceId ?? "";
    this.root.dataset.videoIn = this.local.video?.getSettings().deviceId ?? "";
    this.root.lang = this.host.lang();
    const chosen = { audioIn: this.local.choice.audioIn, videoIn: this.local.choice.videoIn, audioOut: this.local.choice.audioOut };
    if (this.lobby) {
      this.lobby.update(lobbyModel(this.host.roomName, self.name, this.local, this.preparing, !this.mode, this.lists, chosen), s);
      return;
    }
    const count = this.roster.people.size + 1;
    if (this.note && now > this.note.until) this.note = null;
    const joining = this.phase === "joining" ? { kind: "info" as const, text: s.joining } : null;
    this.call.update(
      {
        header: { roomName: this.host.roomName, epoch: this.epoch, fingerprint: this.fingerprint, link: this.link, joinedAt: this.joinedAt, count, mediaFailed: this.phase === "failed" },
        tiles: this.roster.tiles(self, now),
        alone: this.phase === "joined" && this.roster.people.size === 0,
        toolbar: {
          micOn: self.micOn,
          camOn: self.camOn,
          sharing: !!this.local.screen,
          hand: this.hand,
          canHand: this.phase === "joined",
          panel: this.panel,
          canShare: this.phase === "joined" && !!navigator.mediaDevices?.getDisplayMedia,
          count,
          busy: this.share.busy,
        },
        people: () => this.roster.persons({ ...self, userId: this.host.self.userId }, now),
        lists: this.lists,
        chosen,
        canSpeaker: canChooseSpeaker(),
        banner: this.problem ?? this.note?.model ?? joining,
      },
      s,
      now,
    );
  }
}
