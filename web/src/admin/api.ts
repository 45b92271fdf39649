/**
 * The administration API (`/api/v1/admin/…`, administrators only) and the invitation links
 * (`/api/v1/invitations/…`, no session). Called from the page, not the crypto worker: nothing
 * here is key material. Shapes mirror `crates/ting-proto/src/admin.rs`.
 */
import { ApiError } from "../crypto/api";

export interface AdminUser {
  id: string;
  username: string;
  is_admin: boolean;
  created_at: number;
  deactivated_at: number | null;
  active_devices: number;
  last_seen_at: number | null;
}
export interface AdminUserPage { users: AdminUser[]; total: number; next: string | null; management: string }
export type InvitationKind = "invite" | "password_reset";
export interface IssuedInvitation { id: string; username: string; kind: InvitationKind; token: string; link: string; expires_at: number }
export interface PendingInvitation {
  id: string;
  username: string;
  kind: InvitationKind;
  admin: boolean;
  created_by: string | null;
  created_at: number;
  expires_at: number;
}
export interface InvitationInfo { username: string; kind: InvitationKind; expires_at: number }
export interface AdminDevice {
  id: string;
  user_id: string;
  name: string;
  signature_key: string;
  created_at: number;
  revoked_at: number | null;
  certified: boolean;
  last_seen_at: number | null;
}
export interface AdminDeviceList { user: AdminUser; devices: AdminDevice[] }
export interface PolicyDocument { revision: number; document: string; set_at: number }
export interface PolicyRevision { revision: number; set_at: number; set_by: string | null; document: string }
export interface PolicyProblem { message: string; line: number | null }
export interface PolicyEffect { setting: string; before: unknown; after: unknown }
export interface PolicyCheck { valid: boolean; problems: PolicyProblem[]; effects: PolicyEffect[] }
export interface AuditRecordView {
  seq: number;
  at: number;
  event: string;
  actor: string | null;
  actor_name: string | null;
  actor_device: string | null;
  target: string | null;
  target_name: string | null;
  client: string | null;
  details: unknown;
  hash: string;
}
export interface AuditPage { records: AuditRecordView[]; next_before: number | null; events: string[] }
export interface AuditVerification { ok: boolean; checked: number; head_hash: string; head_seq: number; problem: string | null; first_seq: number | null }
export interface AuditFilter { event?: string; actor?: string; since?: number; until?: number }
export interface MediaPort { protocol: string; address: string; reachable: boolean; problem: string | null }
export interface AdminHealth {
  version: string;
  web_bundle_hash: string;
  store_backend: string;
  store_ok: boolean;
  uptime_secs: number;
  users: number;
  connections: number;
  connected_devices: number;
  meetings: number;
  meeting_participants: number;
  media_ports: MediaPort[];
}
export interface ReportSection { heading: string; paragraphs: string[]; table: { columns: string[]; rows: string[][] } | null }
export interface ComplianceReport { title: string; generated_at: number; sections: ReportSection[] }

type Method = "GET" | "POST" | "PUT" | "DELETE";

/** An `invalid_policy` refusal carries the line it concerns. */
export class PolicyRefused extends ApiError {
  constructor(message: string, public line: number | null) {
    super("invalid_policy", message, 400);
  }
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export class AdminApi {
  /** `token` gives the session token (the crypto worker's `wsToken`); null for the public invitation routes. */
  constructor(private token: () => Promise<string | null>, private base = "") {}

  async raw(method: Method, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    const token = await this.token();
    if (token) headers["Authorization"] = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp: Response;
    try {
      resp = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (e) {
      throw new ApiError("network", e instanceof Error ? e.message : String(e));
    }
    if (resp.ok) return resp;
    const text = await resp.text().catch(() => "");
    let parsed: { code?: string; message?: string; line?: number } | null = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (parsed && parsed.code === "invalid_policy") throw new PolicyRefused(parsed.message ?? "", parsed.line ?? null);
    if (parsed && typeof parsed.code === "string") throw new ApiError(parsed.code, parsed.message ?? "", resp.status);
    throw new ApiError(resp.status >= 502 && resp.status <= 504 ? "unavailable" : "http_error", `HTTP ${resp.status}`, resp.status);
  }

  private async json<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const resp = await this.raw(method, path, body);
    if (resp.status === 204) return undefined as T;
    return (await resp.json()) as T;
  }

  // Accounts
  users(q: string, after: string | null, limit = 50): Promise<AdminUserPage> {
    return this.json("GET", `/api/v1/admin/users${query({ q, after, limit })}`);
  }
  invite(username: string, admin: boolean): Promise<IssuedInvitation> {
    return this.json("POST", "/api/v1/admin/invitations", { username, admin });
  }
  invitations(): Promise<{ invitations: PendingInvitation[] }> {
    return this.json("GET", "/api/v1/admin/invitations");
  }
  withdrawInvitation(id: string): Promise<void> {
    return this.json("DELETE", `/api/v1/admin/invitations/${encodeURIComponent(id)}`);
  }
  deactivate(username: string): Promise<AdminUser> {
    return this.json("POST", `/api/v1/admin/users/${encodeURIComponent(username)}/deactivate`);
  }
  reactivate(username: string): Promise<AdminUser> {
    return this.json("POST", `/api/v1/admin/users/${encodeURIComponent(username)}/reactivate`);
  }
  setAdmin(username: string, admin: boolean): Promise<AdminUser> {
    return this.json("PUT", `/api/v1/admin/users/${encodeURIComponent(username)}/admin`, { admin });
  }
  passwordReset(username: string): Promise<IssuedInvitation> {
    return this.json("POST", `/api/v1/admin/users/${encodeURIComponent(username)}/password-reset`);
  }
  devices(username: string): Promise<AdminDeviceList> {
    return this.json("GET", `/api/v1/admin/users/${encodeURIComponent(username)}/devices`);
  }
  revokeDevice(id: string): Promise<{ device_id: string; revoked: boolean }> {
    return this.json("DELETE", `/api/v1/admin/devices/${encodeURIComponent(id)}`);
  }

  // Invitation links (no session)
  invitation(token: string): Promise<InvitationInfo> {
    return this.json("GET", `/api/v1/invitations/${encodeURIComponent(token)}`);
  }
  acceptInvitation(token: string, password: string): Promise<{ id: string; username: string; is_admin: boolean; created_at: number }> {
    return this.json("POST", `/api/v1/invitations/${encodeURIComponent(token)}`, { password });
  }

  // Policy
  policy(): Promise<PolicyDocument> {
    return this.json("GET", "/api/v1/admin/policy");
  }
  setPolicy(document: string): Promise<PolicyDocument> {
    return this.json("PUT", "/api/v1/admin/policy", { document });
  }
  checkPolicy(document: string): Promise<PolicyCheck> {
    return this.json("POST", "/api/v1/admin/policy/check", { document });
  }
  policyRevisions(): Promise<{ revisions: PolicyRevision[] }> {
    return this.json("GET", "/api/v1/admin/policy/revisions");
  }

  // Audit log
  audit(filter: AuditFilter, before: number | null, limit = 50): Promise<AuditPage> {
    return this.json("GET", `/api/v1/admin/audit${query({ ...filter, before, limit })}`);
  }
  verifyAudit(): Promise<AuditVerification> {
    return this.json("GET", "/api/v1/admin/audit/verify");
  }
  /** JSON Lines, one record per line, oldest first. */
  async exportAudit(filter: AuditFilter): Promise<Blob> {
    return (await this.raw("GET", `/api/v1/admin/audit/export${query({ ...filter })}`)).blob();
  }

  // Compliance and health
  compliance(): Promise<ComplianceReport> {
    return this.json("GET", "/api/v1/admin/compliance");
  }
  async complianceFile(format: "markdown" | "html"): Promise<Blob> {
    return (await this.raw("GET", `/api/v1/admin/compliance?format=${format}`)).blob();
  }
  health(): Promise<AdminHealth> {
    return this.json("GET", "/api/v1/admin/health");
  }
}
