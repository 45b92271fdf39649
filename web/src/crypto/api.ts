/**
 * Typed calls of Ting's `/api/v1` HTTP API (ting-proto `api.rs`, `ds.rs`). No crypto here:
 * bytes in, bytes out. Errors carry the server's stable `code`; a request that never reached
 * the server is `network`.
 */
import { b64decode, b64encode } from "./bytes";

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    public code: string,
    message: string,
    public status = 0,
    public currentEpoch: number | null = null,
    public position: number | null = null,
    public retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export interface UserInfo { id: string; username: string; is_admin: boolean; created_at: number }
export interface DeviceInfo {
  id: string;
  user_id: string;
  name: string;
  signature_key: string;
  created_at: number;
  revoked_at: number | null;
  /** The device has a certificate in the key log. */
  certified?: boolean;
}
export interface KeyLogUser { username: string; records: { index: number; record: string }[]; size: number; checkpoint: string; proofs: string[][] }
/** A user's key log records with the proofs to check them (bytes decoded). */
export interface KeyLogProven { username: string; records: { index: number; record: Uint8Array }[]; size: number; checkpoint: string; proofs: Uint8Array[][] }
export interface LinkInfo { request: string; device_id: string; device_name: string; expires_at: number }
export interface LoginResponse { token: string; expires_at: number; user: UserInfo; device: DeviceInfo }
export interface Me { user: UserInfo; device: DeviceInfo; session_expires_at: number }
export interface RoomInfo { id: string; kind: "room" | "direct"; epoch: number; last_seq: number; cursor: number; created_at: number }
export interface RoomMember { user_id: string; username: string; device_id: string; signature_key: string; added_seq: number }
export interface WireMessage {
  room_id: string;
  seq: number;
  id: string;
  sender_device: string;
  sender_user: string;
  kind: "application" | "commit";
  epoch: number;
  payload: string;
  created_at: number;
}
export interface WireWelcome { room_id: string; commit_seq: number; payload: string }
export interface BlobInfo { id: string; room_id: string; size: number; received: number; complete: boolean }
export interface SendMessage {
  id: string;
  kind: "application" | "commit";
  epoch: number;
  payload: Uint8Array;
  welcome?: Uint8Array | null;
  added_devices?: string[];
  removed_devices?: string[];
}
export interface ClientPolicy { file_sharing: boolean; max_file_bytes: number; meetings: boolean; may_create_rooms: boolean; may_create_meetings: boolean }

type Method = "GET" | "POST" | "PATCH" | "DELETE";

export class Api {
  constructor(public token: string | null = null, private base = "") {}

  private async raw(method: Method, path: string, body?: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
    const h: Record<string, string> = { ...headers };
    if (this.token) h["Authorization"] = `Bearer ${this.token}`;
    let resp: Response;
    try {
      resp = await fetch(this.base + path, { method, headers: h, body, cache: "no-store", credentials: "omit" });
    } catch (e) {
      throw new ApiError("network", e instanceof Error ? e.message : String(e));
    }
    if (resp.ok) return resp;
    const text = await resp.text().catch(() => "");
    let parsed: { code?: string; message?: string; current_epoch?: number; position?: number } | null = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    const retry = Number(resp.headers.get("retry-after")) || null;
    if (parsed && typeof parsed.code === "string") {
      throw new ApiError(parsed.code, parsed.message ?? "", resp.status, parsed.current_epoch ?? null, parsed.position ?? null, retry);
    }
    const code = resp.status === 502 || resp.status === 503 || resp.status === 504 ? "unavailable" : "http_error";
    throw new ApiError(code, `HTTP ${resp.status}`, resp.status);
  }

  private async json<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const resp = await this.raw(method, path, body === undefined ? undefined : JSON.stringify(body), body === undefined ? {} : { "Content-Type": "application/json" });
    if (resp.status === 204) return undefined as T;
    const text = await resp.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError("protocol", "the server sent an unreadable answer", resp.status);
    }
  }

  login(username: string, password: string, deviceName: string, signatureKey: Uint8Array): Promise<LoginResponse> {
    return this.json("POST", "/api/v1/auth/login", { username, password, device_name: deviceName, signature_key: b64encode(signatureKey) });
  }
  logout(): Promise<void> { return this.json("POST", "/api/v1/auth/logout"); }
  logoutAll(): Promise<{ revoked: number }> { return this.json("POST", "/api/v1/auth/logout-all"); }
  me(): Promise<Me> { return this.json("GET", "/api/v1/me"); }
  policy(): Promise<ClientPolicy> { return this.json("GET", "/api/v1/policy"); }

  userDevices(username: string): Promise<{ user_id: string; devices: DeviceInfo[] }> {
    return this.json("GET", `/api/v1/users/${encodeURIComponent(username)}/devices`);
  }
  ownDevices(): Promise<{ user_id: string; devices: DeviceInfo[] }> { return this.json("GET", "/api/v1/devices"); }
  revokeDevice(id: string): Promise<void> { return this.json("DELETE", `/api/v1/devices/${encodeURIComponent(id)}`); }

  keyPackageCount(): Promise<{ available: number; has_last_resort: boolean }> { return this.json("GET", "/api/v1/key-packages"); }
  uploadKeyPackages(oneTime: Uint8Array[], lastResort: Uint8Array | null): Promise<{ available: number; has_last_resort: boolean }> {
    return this.json("POST", "/api/v1/key-packages", {
      key_packages: oneTime.map(b64encode),
      last_resort: lastResort ? b64encode(lastResort) : null,
    });
  }
  async claimKeyPackages(username: string, deviceId: string): Promise<{ device_id: string; key_package: Uint8Array; last_resort: boolean }[]> {
    const out = await this.json<{ key_packages: { device_id: string; key_package: string; last_resort: boolean }[] }>(
      "POST",
      `/api/v1/users/${encodeURIComponent(username)}/key-packages/claim?device_id=${encodeURIComponent(deviceId)}`,
    );
    return out.key_packages.map((k) => ({ ...k, key_package: b64decode(k.key_package) }));
  }

  appendKeyLog(record: Uint8Array): Promise<{ index: number; size: number }> {
    return this.json("POST", "/api/v1/keylog", { record: b64encode(record) });
  }
  /** The records with their inclusion proofs and the signed checkpoint they are proven at. */
  async keyLogProven(username: string): Promise<KeyLogProven> {
    const out = await this.json<KeyLogUser>("GET", `/api/v1/keylog/users/${encodeURIComponent(username)}`);
    return {
      username: out.username,
      records: out.records.map((r) => ({ index: r.index, record: b64decode(r.record) })),
      size: out.size,
      checkpoint: out.checkpoint,
      proofs: (out.proofs ?? []).map((p) => p.map(b64decode)),
    };
  }
  /** What a client pins on first contact: the log's origin and signed-note verifier key. */
  keyLogKey(): Promise<{ origin: string; verifier_key: string }> { return this.json("GET", "/api/v1/keylog/key"); }
  /** The newest signed checkpoint note. */
  async keyLogCheckpoint(): Promise<string> { return (await this.raw("GET", "/api/v1/keylog/checkpoint")).text(); }
  async keyLogConsistency(old: number, size: number): Promise<Uint8Array[]> {
    const out = await this.json<{ proof: string[] }>("GET", `/api/v1/keylog/proof/consistency?old=${old}&new=${size}`);
    return out.proof.map(b64decode);
  }
  openLink(request: Uint8Array): Promise<{ rendezvous_id: string; expires_at: number }> {
    return this.json("POST", "/api/v1/link", { request: b64encode(request) });
  }
  linkRequest(id: string): Promise<LinkInfo> { return this.json("GET", `/api/v1/link/${encodeURIComponent(id)}`); }
  respondLink(id: string, response: Uint8Array): Promise<void> {
    return this.json("POST", `/api/v1/link/${encodeURIComponent(id)}/response`, { response: b64encode(response) });
  }
  /** The answer to this device's rendezvous, or null while none arrived (202). */
  async linkResponse(id: string): Promise<Uint8Array | null> {
    const resp = await this.raw("GET", `/api/v1/link/${encodeURIComponent(id)}/response`);
    if (resp.status === 202) return null;
    const body = (await resp.json()) as { response: string };
    return b64decode(body.response);
  }

  createRoom(): Promise<RoomInfo> { return this.json("POST", "/api/v1/rooms", { kind: "room" }); }
  async rooms(): Promise<RoomInfo[]> { return (await this.json<{ rooms: RoomInfo[] }>("GET", "/api/v1/rooms")).rooms; }
  async members(room: string): Promise<RoomMember[]> {
    return (await this.json<{ members: RoomMember[] }>("GET", `/api/v1/rooms/${room}/members`)).members;
  }
  sendMessage(room: string, m: SendMessage): Promise<{ seq: number; epoch: number }> {
    return this.json("POST", `/api/v1/rooms/${room}/messages`, {
      id: m.id,
      kind: m.kind,
      epoch: m.epoch,
      payload: b64encode(m.payload),
      welcome: m.welcome ? b64encode(m.welcome) : null,
      added_devices: m.added_devices ?? [],
      removed_devices: m.removed_devices ?? [],
    });
  }
  messagesAfter(room: string, after: number, limit: number): Promise<{ messages: WireMessage[]; more: boolean }> {
    return this.json("GET", `/api/v1/rooms/${room}/messages?after=${after}&limit=${limit}`);
  }
  ack(room: string, seq: number): Promise<void> { return this.json("POST", `/api/v1/rooms/${room}/ack`, { seq }); }
  async welcomes(): Promise<WireWelcome[]> { return (await this.json<{ welcomes: WireWelcome[] }>("GET", "/api/v1/welcomes")).welcomes; }
  deleteWelcome(room: string): Promise<void> { return this.json("DELETE", `/api/v1/welcomes/${room}`); }

  createBlob(room: string, size: number): Promise<BlobInfo> { return this.json("POST", `/api/v1/rooms/${room}/blobs`, { size }); }
  blobStatus(id: string): Promise<BlobInfo> { return this.json("GET", `/api/v1/blobs/${id}/status`); }
  async uploadBlob(id: string, offset: number, bytes: Uint8Array): Promise<BlobInfo> {
    const resp = await this.raw("PATCH", `/api/v1/blobs/${id}`, bytes as Uint8Array<ArrayBuffer>, {
      "Upload-Offset": String(offset),
      "Content-Type": "application/octet-stream",
    });
    return (await resp.json()) as BlobInfo;
  }
  downloadBlob(id: string): Promise<Response> { return this.raw("GET", `/api/v1/blobs/${id}`); }
}
