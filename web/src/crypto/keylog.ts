/**
 * The key log as this device checks it — the browser counterpart of ting-client's
 * `accept_checkpoint`, `user_log` and `check_peer_position` (identity.rs). The log's key is
 * pinned on first contact; every answer must be signed by it and extend the newest checkpoint
 * this device accepted (a consistency proof), and each record must be included in it. A log
 * that was rolled back, forked or badly signed is refused: nothing it says is used, and every
 * room shows the warning. The accepted position travels in every message this device sends;
 * a member's position that does not fit this device's view is a split view, shown in the room.
 */
import { KeyLogView, type KeyLogCheckpoint, type LogPosition, type VerifiedUserKeys } from "../../pkg/ting_web";
import { ApiError } from "./api";
import { Failure, type Engine } from "./engine";

/** A user's keys and the verified records themselves. */
export interface ProvenUser {
  keys: VerifiedUserKeys;
  records: { index: number; record: Uint8Array }[];
}

export class KeyLog {
  /** Positions of other members that fit this device's view (`size:root`). */
  private checked = new Set<string>();

  constructor(private e: Engine) {}

  private async view(): Promise<KeyLogView> {
    const { app } = this.e.need();
    if (app.keyLog) return KeyLogView.fromState(app.keyLog);
    // First contact: pin the log's key.
    const info = await this.e.api.keyLogKey();
    const view = new KeyLogView(info.origin, info.verifier_key, [], 0);
    app.keyLog = view.toState();
    return view;
  }

  /** Carries the accepted position in the messages this device sends. */
  applyPosition(): void {
    const { app, client } = this.e.need();
    const l = app.keyLog?.latest;
    client.setLogPosition(l ? { size: l.size, root: l.root } : null);
  }

  /** Records a refusal (shown in every room) and throws it as `key_log`. */
  private async refuse(err: unknown): Promise<never> {
    const { app } = this.e.need();
    const why = err instanceof Error ? err.message : String(err);
    if (app.keyLogAlarm !== why) {
      app.keyLogAlarm = why;
      for (const [id, r] of Object.entries(app.rooms)) if (!r.removed) this.e.touched(id);
      await this.e.persist();
    }
    this.e.keyLogAlarm(why);
    throw new Failure("key_log", why);
  }

  /**
   * Verifies `note` against the checkpoint this device accepted last (fetching a consistency
   * proof when the log grew) and remembers it. Throws `key_log` on a rollback, fork or bad
   * signature.
   */
  async accept(note: string): Promise<KeyLogCheckpoint> {
    const { app } = this.e.need();
    const view = await this.view();
    try {
      const need = view.needs(note);
      const proof = need ? await this.e.api.keyLogConsistency(need.old, need.new) : [];
      const cp = view.accept(note, proof, Math.floor(Date.now() / 1000));
      const before = app.keyLog?.latest?.size;
      app.keyLog = view.toState();
      this.applyPosition();
      if (before !== app.keyLog.latest?.size) await this.e.persist();
      return cp;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      return this.refuse(err);
    } finally {
      view.free();
    }
  }

  /** `username`'s keys as the key log proves them (each record included in an accepted checkpoint). */
  async user(username: string): Promise<ProvenUser> {
    const resp = await this.e.api.keyLogProven(username);
    if (resp.username !== username) return this.refuse(new Error("the key log answered about another user"));
    const cp = await this.accept(resp.checkpoint);
    try {
      if (cp.size !== resp.size) return await this.refuse(new Error("the key log's proofs are for another size than its checkpoint"));
      try {
        return { keys: KeyLogView.userKeys(cp, username, resp.records, resp.proofs), records: resp.records };
      } catch (err) {
        return await this.refuse(err);
      }
    } finally {
      cp.free();
    }
  }

  /**
   * Checks a position another member carried against this device's view: the same tree, or
   * one the other extends by the server's consistency proof. Returns why not (a split view),
   * or null. A position that cannot be checked now (no view yet, server unreachable) passes.
   */
  async checkPeer(peer: LogPosition): Promise<string | null> {
    const key = `${peer.size}:${peer.root}`;
    if (this.checked.has(key)) return null;
    const { app } = this.e.need();
    let mine = app.keyLog?.latest;
    if (!mine) return null;
    if (peer.size === mine.size) {
      if (peer.root !== mine.root) return `two different key logs of ${peer.size} records`;
      this.checked.add(key);
      return null;
    }
    if (peer.size > mine.size) {
      // Catch up first: the newer checkpoint must extend this device's view.
      let note: string;
      try {
        note = await this.e.api.keyLogCheckpoint();
      } catch {
        return null;
      }
      try {
        (await this.accept(note)).free();
      } catch (err) {
        if (err instanceof Failure && err.code === "key_log") return err.message;
        return null;
      }
      mine = app.keyLog?.latest;
      if (!mine) return null;
      if (mine.size < peer.size) return `a member saw a key log of ${peer.size} records; the server shows ${mine.size}`;
      if (mine.size === peer.size) {
        if (mine.root !== peer.root) return `two different key logs of ${peer.size} records`;
        this.checked.add(key);
        return null;
      }
    }
    const [old, oldRoot, size, root] = peer.size < mine.size ? [peer.size, peer.root, mine.size, mine.root] : [mine.size, mine.root, peer.size, peer.root];
    let proof: Uint8Array[];
    try {
      proof = await this.e.api.keyLogConsistency(old, size);
    } catch (err) {
      if (err instanceof ApiError && (err.code === "network" || err.code === "unavailable")) return null;
      return `the server proves no consistency between the key logs of ${old} and ${size} records`;
    }
    if (KeyLogView.verifyConsistency(old, oldRoot, size, root, proof)) {
      this.checked.add(key);
      return null;
    }
    return `a member's key log of ${peer.size} records does not fit the one of ${mine.size} records this device saw`;
  }
}
