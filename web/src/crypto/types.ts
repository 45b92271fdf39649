/**
 * Plain data shared by the crypto worker and the UI (structured-clone safe). Everything the UI
 * shows is decrypted and shaped in the worker; the UI never sees keys.
 */
import type { FileRef } from "../../pkg/ting_web";
import type { MeetingMember } from "../meeting/host";

export type { FileRef, MeetingMember };

/** Who is signed in on this device. */
export interface Session {
  username: string;
  userId: string;
  deviceId: string;
  /** This device's Ed25519 key, hex. */
  deviceKey: string;
  isAdmin: boolean;
  /** This device has its certificate; false: it must be linked (or the identity reset). */
  certified: boolean;
  /** Why the server's key log was refused (rollback, fork, bad proof), or null. */
  keyLogAlarm?: string | null;
}

/** Another user's identity key changed (keys hex). */
export interface IdentityChange {
  previous: string;
  current: string;
  /** The previous key had been verified: sending waits until the user accepts. */
  wasVerified: boolean;
}

/** What a room warns about. */
export interface RoomIdentity {
  changed: { user: string; wasVerified: boolean }[];
  /** Sending is blocked until these users' new keys are accepted. */
  blocked: string[];
  /** This user's identity was reset on another device. */
  ownReset: boolean;
  /** The server's key log was refused (rollback, fork, bad proof): why, or null. */
  keyLog?: string | null;
  /** A member in this room saw another key log than this device: why, or null. */
  splitView?: string | null;
}

/** The code a new device shows while it waits to be linked. */
export interface LinkStart {
  code: string;
  /** Short fingerprint of this device's key (shown on both devices). */
  fingerprint: string;
  /** ms since the Unix epoch. */
  expiresAt: number;
}

/** What an existing device shows before approving a link. */
export interface LinkApproval {
  deviceId: string;
  deviceName: string;
  fingerprint: string;
  expiresAt: number;
}

/** Reactions on a message: emoji → usernames. */
export type Reactions = Record<string, string[]>;

/** Why a history line could not be shown as a message. */
export type UndecryptableReason = "verification" | "decryption" | "unknown_kind" | "not_member";

export type EntryItem =
  | {
      kind: "text";
      id: string;
      body: string;
      replyTo: string | null;
      edited: boolean;
      redacted: boolean;
      reactions: Reactions;
    }
  | { kind: "file"; id: string; file: FileRef; redacted: boolean; reactions: Reactions }
  | { kind: "roomName"; name: string }
  | { kind: "roomTopic"; topic: string }
  | { kind: "membership"; added: string[]; removed: string[]; left: string[] }
  | { kind: "joined"; by: string }
  | { kind: "undecryptable"; reason: UndecryptableReason; detail: string };

/** One line of a room's decrypted history. */
export interface Entry {
  /** Position in the room's log (gap-free from 1). */
  seq: number;
  /** Username proven by the MLS credential ("" when unknown). */
  sender: string;
  senderDevice: string;
  /** Server time, Unix seconds. */
  at: number;
  /** Sent by this user (any of their devices). */
  own: boolean;
  item: EntryItem;
}

/** What the composer can send (encrypted in the worker). */
export type OutgoingBody =
  | { type: "text"; body: string; replyTo?: string }
  | { type: "edit"; target: string; body: string }
  | { type: "reaction"; target: string; emoji: string; remove?: boolean }
  | { type: "redaction"; target: string };

/** A message not yet accepted by the server. Kept (and persisted) until sent or discarded. */
export interface OutboxItem {
  localId: string;
  /** Envelope id (hex), fixed so a resend is the same message. */
  envelopeId: string;
  /** Delivery Service message id (UUID), fixed so a resend is recognised as a duplicate. */
  messageId: string;
  body: OutgoingBody;
  status: "sending" | "failed";
  /** Error code of the last failure. */
  error: string | null;
  createdAt: number;
}

export interface RoomSummary {
  id: string;
  name: string | null;
  topic: string | null;
  unread: number;
  /** Unix seconds of the latest line. */
  lastAt: number;
  lastPreview: { sender: string; text: string; kind: "text" | "file" | "other" } | null;
  /** This device is no longer a member. */
  removed: boolean;
  /** Usernames in the group (this user included). */
  members: string[];
  failed: number;
}

export interface Timeline {
  roomId: string;
  name: string | null;
  topic: string | null;
  removed: boolean;
  entries: Entry[];
  /** More history exists before `entries`. */
  more: boolean;
  outbox: OutboxItem[];
  /** Reply targets of `entries`, by message id. */
  quotes: Record<string, { sender: string; text: string; redacted: boolean; seq: number }>;
  identity: RoomIdentity;
}

export type Verification = "verified" | "unverified" | "changed";

export interface MemberDevice {
  deviceId: string | null;
  name: string | null;
  /** Hex Ed25519 key from the MLS leaf. */
  deviceKey: string;
}

export interface MemberInfo {
  username: string;
  self: boolean;
  devices: MemberDevice[];
  verification: Verification;
}

export interface SafetyView {
  username: string;
  digits: string;
  groups: string[];
  qrPayload: Uint8Array;
  verified: boolean;
}

export interface DeviceView {
  id: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
  current: boolean;
  /** Hex Ed25519 key. */
  key: string;
  /** Certified by one of the user's devices (false: still waiting to be linked). */
  certified: boolean;
}

export interface UploadProgress {
  uploadId: string;
  roomId: string;
  name: string;
  sent: number;
  total: number;
  state: "uploading" | "sending" | "done" | "failed";
  error: string | null;
}

/** Notifications the worker posts to the UI without being asked. */
export type WorkerNotice =
  | { type: "changed"; rooms: string[] }
  | { type: "upload"; progress: UploadProgress }
  | { type: "sessionEnded"; reason: "expired" | "revoked" }
  | { type: "lockLost" }
  | { type: "deviceLinked"; name: string }
  | { type: "keyLogAlarm"; why: string };

/** Outcome of handling one WebSocket event. */
export interface EventOutcome {
  ack: { room_id: string; seq: number } | null;
}
