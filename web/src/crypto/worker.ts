/// <reference lib="webworker" />
/**
 * The crypto worker: owns the `TingClient` (all MLS, file and media-key cryptography) and the
 * device's local state, and answers the UI's RPC calls (`rpc.ts`). One browser profile runs one
 * device: a Web Lock keeps a second tab from forking the MLS state.
 */
import init, { version } from "../../pkg/ting_web.js";
import wasmUrl from "../../pkg/ting_web_bg.wasm?url";
import wasmIntegrity from "virtual:ting-wasm-integrity";
import { ApiError, type WireMessage, type WireWelcome } from "./api";
import { b64ToHex, groupId } from "./bytes";
import { Engine, Failure } from "./engine";
import { Files, maxPlaintextLen } from "./files";
import { Identity } from "./identity";
import { MediaPorts } from "./media";
import { Ops } from "./ops";
import type { BootResult, FromWorker, Method, Request, WorkerApi } from "./rpc";
import { LocalStore } from "./store";
import type { EventOutcome, WorkerNotice } from "./types";
import * as views from "./views";

declare const self: DedicatedWorkerGlobalScope;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}
const notify = (notice: WorkerNotice) => post({ notice });

let engine: Engine | null = null;
let ops: Ops | null = null;
let files: Files | null = null;
let media: MediaPorts | null = null;
let identity: Identity | null = null;
let stopped = false;

const ready = (async () => {
  await init({ module_or_path: fetch(wasmUrl, { integrity: wasmIntegrity }) });
})();

/** Holds the device lock for as long as this worker lives. */
function acquireLock(steal: boolean): Promise<boolean> {
  if (!("locks" in navigator)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const opts: LockOptions = steal ? { steal: true } : { ifAvailable: true };
    navigator.locks
      .request("ting-device", opts, (lock) => {
        if (!lock) {
          resolve(false);
          return undefined;
        }
        resolve(true);
        return new Promise<void>(() => undefined);
      })
      .catch(() => {
        // Another tab took the device over: stop touching the state.
        stopped = true;
        notify({ type: "lockLost" });
      });
  });
}

function need(): { engine: Engine; ops: Ops; files: Files; media: MediaPorts; identity: Identity } {
  if (stopped) throw new Failure("locked", "Ting is open in another tab");
  if (!engine || !ops || !files || !media || !identity) throw new Failure("not_ready", "the crypto worker is not ready");
  return { engine, ops, files, media, identity };
}

async function handleEvent(ev: { type: string; [k: string]: unknown }): Promise<EventOutcome> {
  const { engine: e, ops: o } = need();
  const me = e.need().app;
  switch (ev.type) {
    case "message": {
      const m = ev["message"] as WireMessage;
      return e.exclusive(async () => {
        const known = e.need().app.rooms[m.room_id];
        if (!e.need().client.hasGroup(groupId(m.room_id)) && !known?.removed) await e.handleWelcomes();
        await e.processMessage(m);
        await e.persist();
        if (e.room(m.room_id).pendingLeaves.length) await o.commitPendingLeaves(m.room_id).catch((err) => console.warn(err));
        return { ack: { room_id: m.room_id, seq: m.seq } };
      });
    }
    case "welcome":
      await e.exclusive(() => e.handleWelcome(ev["welcome"] as WireWelcome));
      return { ack: null };
    case "key_packages_low":
      await e.exclusive(() => e.replenishKeyPackages());
      return { ack: null };
    case "key_log_appended": {
      // A device of this user certified (added to the rooms here), a revocation, or an
      // identity declared: a contact's reset is shown in the rooms shared with them.
      const username = ev["username"] as string;
      const index = ev["index"] as number;
      if (!e.need().client.certified) return { ack: null };
      await e.exclusive(() => need().identity.onKeyLog(username, index));
      return { ack: null };
    }
    case "device_added":
      // Added once its certificate is in the key log (key_log_appended), never on the
      // server's word alone.
      return { ack: null };
    case "device_revoked": {
      const id = ev["device_id"] as string;
      if (id === me.deviceId) {
        notify({ type: "sessionEnded", reason: "revoked" });
        return { ack: null };
      }
      await e.exclusive(async () => {
        const d = (await e.api.ownDevices()).devices.find((x) => x.id === id);
        if (d) await o.removeDeviceEverywhere(id, b64ToHex(d.signature_key));
      });
      return { ack: null };
    }
    default:
      return { ack: null };
  }
}

type Impl = { [M in Method]: (...args: Parameters<WorkerApi[M]>) => ReturnType<WorkerApi[M]> | Promise<ReturnType<WorkerApi[M]>> };

const impl: Impl = {
  async boot(steal) {
    await ready;
    if (!(await acquireLock(steal))) return { state: "locked" } satisfies BootResult;
    stopped = false;
    if (!engine) {
      engine = new Engine(await LocalStore.open(), notify);
      ops = new Ops(engine);
      files = new Files(engine, ops, (progress) => notify({ type: "upload", progress }));
      media = new MediaPorts(engine);
      identity = new Identity(engine, ops, notify);
      const session = await engine.boot();
      if (session) return { state: "ready", session };
      return { state: "signedOut", username: engine.app?.username ?? null };
    }
    return engine.app?.token ? { state: "ready", session: engine.session() } : { state: "signedOut", username: engine.app?.username ?? null };
  },
  login: (u, p, d) => need().engine.exclusive(() => need().engine.login(u, p, d)),
  linkStart: () => need().engine.exclusive(() => need().identity.startLink()),
  linkPoll: () =>
    need().engine.exclusive(async () => {
      const state = await need().identity.pollLink();
      return state === "done" ? need().engine.session() : state;
    }),
  linkPreview: (code) => need().engine.exclusive(() => need().identity.previewLink(code)),
  linkApprove: (code) => need().engine.exclusive(() => need().identity.approveLink(code)),
  resetIdentity: () =>
    need().engine.exclusive(async () => {
      await need().identity.reset();
      await need().engine.replenishKeyPackages();
      return need().engine.session();
    }),
  acceptIdentity: (username) => need().engine.exclusive(() => need().identity.accept(username)),
  logout: (everywhere) => need().engine.exclusive(() => need().engine.logout(everywhere)),
  async checkSession() {
    const { engine: e } = need();
    try {
      await e.api.me();
      return true;
    } catch (err) {
      if (err instanceof ApiError && ["invalid_token", "unauthenticated", "device_revoked"].includes(err.code)) {
        await e.exclusive(() => e.sessionEnded());
        return false;
      }
      throw err;
    }
  },
  wsToken: () => need().engine.app?.token ?? null,
  sync: () =>
    need().engine.exclusive(async () => {
      await need().engine.sync();
      await need().ops.retryAll();
    }),
  handleEvent: (ev) => handleEvent(ev),
  setActiveRoom(roomId) {
    const { engine: e } = need();
    e.activeRoom = roomId;
    if (roomId && e.app?.rooms[roomId]?.unread) {
      void e.exclusive(async () => {
        e.room(roomId).unread = 0;
        e.touched(roomId);
        await e.persist();
      });
    }
  },
  rooms: () => views.rooms(need().engine),
  timeline: (id, limit) => views.timeline(need().engine, id, limit),
  markRead: (id) =>
    need().engine.exclusive(async () => {
      const e = need().engine;
      if (e.room(id).unread) {
        e.room(id).unread = 0;
        e.touched(id);
        await e.persist();
      }
    }),
  createRoom: (name, invite) =>
    need().engine.exclusive(async () => {
      const roomId = await need().ops.createRoom(name);
      const failed: { username: string; code: string }[] = [];
      for (const u of invite) {
        try {
          await need().ops.invite(roomId, u);
        } catch (err) {
          failed.push({ username: u, code: codeOf(err) });
        }
      }
      return { roomId, failed };
    }),
  rename: (id, name) => need().engine.exclusive(() => need().ops.rename(id, name)),
  invite: (id, u) => need().engine.exclusive(async () => void (await need().ops.invite(id, u))),
  removeUser: (id, u) => need().engine.exclusive(() => need().ops.removeUser(id, u)),
  leave: (id) => need().engine.exclusive(() => need().ops.leave(id)),
  send: (id, body) => need().engine.exclusive(() => need().ops.send(id, body)),
  retry: (id, localId) => need().engine.exclusive(() => need().ops.retry(id, localId)),
  discard: (id, localId) => need().engine.exclusive(() => need().ops.discard(id, localId)),
  sendFile: (id, file, uploadId) => need().files.send(id, file, uploadId),
  fetchFile: (file) => need().files.fetch(file),
  members: (id) => views.members(need().engine, id),
  safetyNumber: (id, u) => views.safety(need().engine, id, u),
  setVerified: (id, u, v) => need().engine.exclusive(() => views.setVerified(need().engine, id, u, v)),
  devices: () => views.devices(need().engine),
  revokeDevice: (id) => need().engine.exclusive(() => need().identity.revokeDevice(id)),
  /** The largest file (plaintext) that may be shared: the policy limits the encrypted size. */
  async maxFileBytes() {
    // Read each time a file is chosen: an administrator may have changed the policy.
    const policy = await need().engine.api.policy();
    return policy.file_sharing ? maxPlaintextLen(policy.max_file_bytes) : 0;
  },
  meetingMembers: (id) => need().media.members(id),
  mediaKeyPort: (id) => need().media.open(id),
  releaseMediaPorts: (id) => need().media.release(id),
  async version() {
    await ready;
    return version();
  },
};

function codeOf(err: unknown): string {
  if (err instanceof ApiError || err instanceof Failure) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "internal";
}

self.onmessage = async (ev: MessageEvent<Request>) => {
  const { id, method, args } = ev.data;
  try {
    const fn = impl[method] as (...a: unknown[]) => unknown;
    if (typeof fn !== "function") throw new Failure("invalid_argument", `no method ${String(method)}`);
    const value = await fn(...args);
    post({ id, ok: true, value }, value instanceof MessagePort ? [value] : []);
  } catch (err) {
    if (!(err instanceof ApiError) && !(err instanceof Failure)) console.error(method, err);
    const retryAfter = err instanceof ApiError ? err.retryAfter : null;
    post({ id, ok: false, error: { code: codeOf(err), message: err instanceof Error ? err.message : String(err), retryAfter } });
  }
};
