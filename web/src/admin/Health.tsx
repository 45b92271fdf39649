/** Administration: health (being built). */
import type { AdminApi } from "./api";

export function HealthPage(_props: { api: AdminApi }) {
  return <p>Health</p>;
}
