/** Administration: audit (being built). */
import type { AdminApi } from "./api";

export function AuditPage(_props: { api: AdminApi }) {
  return <p>Audit</p>;
}
