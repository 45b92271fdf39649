/**
 * Entry point. `/setup` is the first-administrator page (no crypto worker); every other path
 * is the app, with hash routes (`#/rooms/<id>`).
 */
import { render } from "preact";
import "./styles/theme.css";
import "./styles/app.css";
import "./styles/layout.css";
import "./styles/chat.css";
import "./styles/panels.css";

const root = document.getElementById("app");
if (!root) throw new Error("#app is missing");

if (location.pathname.replace(/\/+$/, "") === "/setup") {
  void import("./ui/Setup").then(({ Setup }) => render(<Setup />, root));
} else {
  void import("./ui/App").then(({ App }) => render(<App />, root));
}
