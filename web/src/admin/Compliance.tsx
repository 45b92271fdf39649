/** Administration: compliance (being built). */
import type { AdminApi } from "./api";

export function CompliancePage(_props: { api: AdminApi }) {
  return <p>Compliance</p>;
}
