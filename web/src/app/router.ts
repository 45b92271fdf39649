/**
 * Hash routes: `#/` (room list), `#/rooms/<id>`, `#/rooms/<id>/members`, `#/settings`,
 * `#/admin/<section>` (administrators).
 */
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "home" }
  | { name: "room"; roomId: string; panel: "members" | null }
  | { name: "settings" }
  | { name: "admin"; section: AdminSection };

export const ADMIN_SECTIONS = ["accounts", "policy", "audit", "compliance", "health"] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts[0] === "rooms" && parts[1] && UUID.test(parts[1])) {
    return { name: "room", roomId: parts[1].toLowerCase(), panel: parts[2] === "members" ? "members" : null };
  }
  if (parts[0] === "settings") return { name: "settings" };
  if (parts[0] === "admin") {
    const section = ADMIN_SECTIONS.find((x) => x === parts[1]) ?? "accounts";
    return { name: "admin", section };
  }
  return { name: "home" };
}

export function href(route: Route): string {
  switch (route.name) {
    case "home":
      return "#/";
    case "settings":
      return "#/settings";
    case "admin":
      return `#/admin/${route.section}`;
    case "room":
      return `#/rooms/${route.roomId}${route.panel ? `/${route.panel}` : ""}`;
  }
}

export function go(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
