/**
 * The organisation policy as this user's apps see it (`GET /api/v1/policy`), read afresh when a
 * view that depends on it opens, so a switch an administrator flips shows without a reload.
 */
import type { ClientPolicy } from "../crypto/api";
import { store } from "./store";

/** The policy in effect, or null when it cannot be read (the server enforces it anyway). */
export async function clientPolicy(): Promise<ClientPolicy | null> {
  try {
    const token = await store.crypto.call("wsToken");
    const resp = await fetch("/api/v1/policy", {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      cache: "no-store",
      credentials: "omit",
    });
    return resp.ok ? ((await resp.json()) as ClientPolicy) : null;
  } catch {
    return null;
  }
}
