/**
 * The app half of the device state (beside `TingClient`'s own): session, per-room progress and
 * decrypted history. Mirrors ting-client's `local.rs` / `sync.rs::apply_envelope`, so both
 * clients show the same history for the same log.
 */
import type { Envelope, KeyLogState } from "../../pkg/ting_web";
import type { Entry, EntryItem, IdentityChange, OutboxItem, Reactions } from "./types";

export interface RoomLocal {
  /** Everything up to this seq has been processed. */
  processedSeq: number;
  /** Seqs this device sent and applied itself (skipped when echoed). */
  ownSeqs: number[];
  name: string | null;
  topic: string | null;
  removed: boolean;
  unread: number;
  lastAt: number;
  lastPreview: { sender: string; text: string; kind: "text" | "file" | "other" } | null;
  outbox: OutboxItem[];
  /** Users whose self-remove proposal was seen (their removal is shown as "left"). */
  leaving: string[];
  /** Devices whose self-remove proposals this device is to commit. */
  pendingLeaves: string[];
  /** A member's key log position that does not fit this device's view (a split view). */
  splitView?: string | null;
}

export interface AppState {
  version: 1;
  username: string;
  userId: string;
  deviceId: string;
  token: string | null;
  isAdmin: boolean;
  rooms: Record<string, RoomLocal>;
  /** Verified users: username → their fingerprint digits when verified. */
  verified: Record<string, string>;
  /** Other users whose master identity key changed and the user has not accepted yet. */
  identityChanges?: Record<string, IdentityChange>;
  /** A master key of this user that is not this device's (the identity was reset elsewhere). */
  ownReset?: string | null;
  /** The pinned key log key and the newest checkpoint this device accepted (`KeyLogView`). */
  keyLog?: KeyLogState | null;
  /** Why the server's key log was refused (rollback, fork, bad proof); shown in every room. */
  keyLogAlarm?: string | null;
}

export function newRoom(): RoomLocal {
  return {
    processedSeq: 0,
    ownSeqs: [],
    name: null,
    topic: null,
    removed: false,
    unread: 0,
    lastAt: 0,
    lastPreview: null,
    outbox: [],
    leaving: [],
    pendingLeaves: [],
  };
}

/** Inserts a line at its seq position (own messages are recorded when sent). */
export function insertOrdered(history: Entry[], entry: Entry): void {
  let i = history.length;
  while (i > 0 && history[i - 1]!.seq > entry.seq) i--;
  history.splice(i, 0, entry);
}

function findById(history: Entry[], id: string): Entry | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const it = history[i]!.item;
    if ((it.kind === "text" || it.kind === "file") && it.id === id) return history[i];
  }
  return undefined;
}

function react(reactions: Reactions, emoji: string, who: string, remove: boolean): void {
  const list = reactions[emoji] ?? [];
  const without = list.filter((u) => u !== who);
  if (remove) {
    if (without.length) reactions[emoji] = without;
    else delete reactions[emoji];
  } else {
    reactions[emoji] = [...without, who];
  }
}

export interface Applied {
  /** A new history line, if the envelope makes one. */
  entry: Entry | null;
  /** An existing line changed (edit, reaction, redaction). */
  changed: boolean;
}

/** Applies a decrypted envelope to a room's state and history. */
export function applyEnvelope(
  room: RoomLocal,
  history: Entry[],
  seq: number,
  sender: string,
  device: string,
  at: number,
  env: Envelope,
  own: boolean,
): Applied {
  const id = env.id ?? "";
  const body = env.body;
  let item: EntryItem;
  switch (body.type) {
    case "text":
      item = { kind: "text", id, body: body.body, replyTo: body.replyTo ?? null, edited: false, redacted: false, reactions: {} };
      break;
    case "file":
      item = { kind: "file", id, file: body.file, redacted: false, reactions: {} };
      break;
    case "edit": {
      const target = findById(history, body.target);
      if (target && target.sender === sender && target.item.kind === "text" && !target.item.redacted) {
        target.item.body = body.body;
        target.item.edited = true;
        refreshPreview(room, history);
        return { entry: null, changed: true };
      }
      return { entry: null, changed: false };
    }
    case "reaction": {
      const target = findById(history, body.target);
      if (target && (target.item.kind === "text" || target.item.kind === "file")) {
        react(target.item.reactions, body.emoji, sender, body.remove ?? false);
        return { entry: null, changed: true };
      }
      return { entry: null, changed: false };
    }
    case "redaction": {
      const target = findById(history, body.target);
      if (target && target.sender === sender && (target.item.kind === "text" || target.item.kind === "file")) {
        target.item.redacted = true;
        target.item.reactions = {};
        if (target.item.kind === "text") target.item.body = "";
        refreshPreview(room, history);
        return { entry: null, changed: true };
      }
      return { entry: null, changed: false };
    }
    case "roomName":
      // A re-sent name (after an invite) changes nothing: no line.
      if (room.name === body.name) return { entry: null, changed: false };
      room.name = body.name;
      item = { kind: "roomName", name: body.name };
      break;
    case "roomTopic":
      if (room.topic === body.topic) return { entry: null, changed: false };
      room.topic = body.topic;
      item = { kind: "roomTopic", topic: body.topic };
      break;
    case "readReceipt":
      return { entry: null, changed: false };
    default:
      item = { kind: "undecryptable", reason: "unknown_kind", detail: "a message kind this app does not know" };
  }
  const entry: Entry = { seq, sender, senderDevice: device, at, own, item };
  insertOrdered(history, entry);
  touch(room, entry, own);
  return { entry, changed: true };
}

/** Updates the room's preview, time and unread count for a new line. */
export function touch(room: RoomLocal, entry: Entry, own: boolean, active = false): void {
  if (entry.at >= room.lastAt) {
    room.lastAt = entry.at;
    const it = entry.item;
    if (it.kind === "text") room.lastPreview = { sender: entry.sender, text: it.body, kind: "text" };
    else if (it.kind === "file") room.lastPreview = { sender: entry.sender, text: it.file.name, kind: "file" };
  }
  if (!own && !active && (entry.item.kind === "text" || entry.item.kind === "file" || entry.item.kind === "undecryptable")) {
    room.unread += 1;
  }
}

/** Recomputes the preview from the newest message (after an edit or a deletion). */
function refreshPreview(room: RoomLocal, history: Entry[]): void {
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i]!;
    const it = e.item;
    if (it.kind === "text") {
      room.lastPreview = { sender: e.sender, text: it.redacted ? "" : it.body, kind: "text" };
      return;
    }
    if (it.kind === "file") {
      room.lastPreview = it.redacted ? { sender: e.sender, text: "", kind: "text" } : { sender: e.sender, text: it.file.name, kind: "file" };
      return;
    }
  }
}
