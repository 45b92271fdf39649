/** Starting and stopping this participant's screen share, and publishing it again after a rejoin. */

import type { LocalMedia } from "./local";
import type { Session } from "./session";

export interface ShareDeps {
  /** The current media session, if any. */
  session(): Session | null;
  /** Sharing could not start. */
  failed(): void;
  /** Something to show changed. */
  changed(): void;
}

export class ScreenShare {
  /** A start or stop is under way (the button is disabled). */
  busy = false;

  constructor(
    private readonly local: LocalMedia,
    private readonly deps: ShareDeps,
  ) {}

  async toggle(): Promise<void> {
    const session = this.deps.session();
    if (this.busy || !session) return;
    this.busy = true;
    this.deps.changed();
    try {
      if (this.local.screen) {
        await this.stop();
      } else {
        const s = await this.local.startScreen();
        if (s) {
          s.track.addEventListener("ended", () => void this.stop());
          await session.startScreen(s.track, s.stream);
        }
      }
    } catch (e) {
      console.warn("screen share", e);
      this.local.stopScreen();
      this.deps.failed();
    } finally {
      this.busy = false;
      this.deps.changed();
    }
  }

  async stop(): Promise<void> {
    if (!this.local.screen) return;
    this.local.stopScreen();
    this.deps.changed();
    await this.deps.session()?.stopScreen().catch(() => undefined);
  }

  /** After a (re)join: publishes a share that is still running. */
  resume(session: Session): void {
    const s = this.local.screen;
    if (s) void session.startScreen(s.track, s.stream).catch(() => this.stop());
  }
}
