/** The app: boot states, sign-in, and the two-pane shell (one pane at a time on a phone). */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText, onLang, t } from "../i18n";
import { useRoute } from "../app/router";
import { store, useStore } from "../app/store";
import { IconAlert, IconLock, Logo } from "./icons";
import { KeyLogBanner } from "./IdentityNotices";
import { LinkScreen } from "./Link";
import { Login } from "./Login";
import { RoomList } from "./RoomList";
import { RoomView } from "./RoomView";
import { Settings } from "./Settings";
import { Admin } from "../admin/Admin";
import { INVITED_USERNAME } from "./Invite";

/** The username an invitation link just set a password for (once), to fill in on sign-in. */
function invitedUsername(): string | null {
  try {
    const name = sessionStorage.getItem(INVITED_USERNAME);
    sessionStorage.removeItem(INVITED_USERNAME);
    return name;
  } catch {
    return null;
  }
}

function Centered(props: { title: string; text?: string; children?: JSX.Element | JSX.Element[]; testid: string }): JSX.Element {
  return (
    <main class="auth-page" data-testid={props.testid}>
      <div class="auth-card">
        <div class="auth-brand">
          <Logo size={44} />
          <span class="brand-name">Ting</span>
        </div>
        <h1>{props.title}</h1>
        {props.text && <p>{props.text}</p>}
        {props.children}
      </div>
    </main>
  );
}

function ConnectionBanner(): JSX.Element | null {
  const connected = useStore((s) => s.connected);
  const ever = useStore((s) => s.everConnected);
  const slow = useStore((s) => s.slowStart);
  if (connected || (!ever && !slow)) return null;
  return (
    <div class="banner banner-warning" role="status" data-testid="connection-banner">
      <IconAlert /> {ever ? t("conn.lost") : t("conn.connecting")}
      <button type="button" class="link-button" onClick={() => store.conn.reconnectNow()}>
        {t("conn.retry")}
      </button>
    </div>
  );
}

function KeyLogAlarm(): JSX.Element | null {
  const why = useStore((s) => s.keyLogAlarm);
  return why ? <KeyLogBanner why={why} /> : null;
}

function Toasts(): JSX.Element {
  const toasts = useStore((s) => s.toasts);
  return (
    <div class="toasts" role="status" aria-live="polite" data-testid="toasts">
      {toasts.map((x) => (
        <div key={x.id} class={`toast ${x.kind}`}>
          {x.text}
        </div>
      ))}
    </div>
  );
}

function Shell(): JSX.Element {
  const route = useRoute();
  const view = route.name === "home" ? "list" : "detail";
  useEffect(() => {
    if (route.name === "home") document.title = "Ting";
  }, [route.name]);
  return (
    <div class="shell" data-view={view}>
      <a class="skip-link" href="#main">
        {t("common.skip")}
      </a>
      <ConnectionBanner />
      <KeyLogAlarm />
      <div class="panes">
        <RoomList activeRoom={route.name === "room" ? route.roomId : null} settingsActive={route.name === "settings" || route.name === "admin"} />
        <main id="main" class="main" tabIndex={-1}>
          {route.name === "room" ? (
            <RoomView roomId={route.roomId} panel={route.panel} key={route.roomId} />
          ) : route.name === "settings" ? (
            <Settings />
          ) : route.name === "admin" ? (
            <Admin section={route.section} />
          ) : (
            <div class="empty-main" data-testid="empty-main">
              <IconLock />
              <h1>{t("home.title")}</h1>
              <p class="muted">{t("home.text")}</p>
            </div>
          )}
        </main>
      </div>
      <Toasts />
    </div>
  );
}

export function App(): JSX.Element {
  const [, rerender] = useState(0);
  useEffect(() => onLang(() => rerender((n) => n + 1)), []);
  useEffect(() => void store.boot(), []);
  const phase = useStore((s) => s.phase);
  const notice = useStore((s) => s.sessionNotice);
  const lastUsername = useStore((s) => s.lastUsername);
  const [invited] = useState(invitedUsername);
  const fatal = useStore((s) => s.fatal);

  switch (phase) {
    case "loading":
      return <Centered title={t("boot.loading")} testid="loading" />;
    case "locked":
      return (
        <Centered title={t("boot.locked_title")} text={t("boot.locked_text")} testid="locked">
          <button type="button" class="button button-primary button-block" onClick={() => void store.boot(true)}>
            {t("boot.use_here")}
          </button>
        </Centered>
      );
    case "lockLost":
      return (
        <Centered title={t("boot.lock_lost_title")} text={t("boot.lock_lost_text")} testid="lock-lost">
          <button type="button" class="button button-primary button-block" onClick={() => location.reload()}>
            {t("boot.reload")}
          </button>
        </Centered>
      );
    case "fatal":
      return (
        <Centered title={t("boot.fatal_title")} text={`${t("boot.fatal_text")} (${errorText(fatal ?? "internal")})`} testid="fatal">
          <button type="button" class="button button-primary button-block" onClick={() => location.reload()}>
            {t("boot.reload")}
          </button>
        </Centered>
      );
    case "signedOut":
      return <Login notice={notice} lastUsername={lastUsername ?? invited} />;
    case "linking":
      return <LinkScreen />;
    case "ready":
      return <Shell />;
  }
}
