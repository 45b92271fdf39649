/**
 * Entry point. `/setup` is the first-administrator page and `/invite` the invitation sign-up
 * page (neither runs the crypto worker); every other path is the app, with hash routes
 * (`#/rooms/<id>`).
 */
import { render } from "preact";
import "./styles/theme.css";
import "./styles/app.css";
import "./styles/layout.css";
import "./styles/chat.css";
import "./styles/panels.css";

const root = document.getElementById("app");
if (!root) throw new Error("#app is missing");

const path = location.pathname.replace(/\/+$/, "");
if (path === "/setup") {
  void import("./ui/Setup").then(({ Setup }) => render(<Setup />, root));
} else if (path === "/invite") {
  void import("./ui/Invite").then(({ Invite }) => render(<Invite />, root));
} else {
  void import("./ui/App").then(({ App }) => render(<App />, root));
}
