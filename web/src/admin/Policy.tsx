/** Administration: policy (being built). */
import type { AdminApi } from "./api";

export function PolicyPage(_props: { api: AdminApi }) {
  return <p>Policy</p>;
}
