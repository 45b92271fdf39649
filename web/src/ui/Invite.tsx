/**
 * An invitation or password-reset link, `/invite#<token>`: shows the account and what the
 * link does, lets its holder choose a password, then sends them to sign in (the first-device
 * flow follows there). The token stays in the fragment, which browsers never send to the
 * server or in referrers; it is posted with the form only.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { formatDate, onLang } from "../i18n";
import { AdminApi, type InvitationInfo } from "../admin/api";
import { adminErrorText, ta } from "../admin/strings-accounts";
import { IconCheck, Logo } from "./icons";
import { LangSwitch } from "./LangSwitch";
import "../styles/admin.css";

/** Where the app's sign-in page finds the username to fill in after a link was used. */
export const INVITED_USERNAME = "ting.invited-username";

const MIN_PASSWORD = 8;

export function Invite(): JSX.Element {
  const [, rerender] = useState(0);
  useEffect(() => onLang(() => rerender((n) => n + 1)), []);
  const [token] = useState(() => decodeURIComponent(location.hash.replace(/^#/, "")));
  const [api] = useState(() => new AdminApi(async () => null));
  const [info, setInfo] = useState<InvitationInfo | null>(null);
  const [linkError, setLinkError] = useState<string | null>(token ? null : ta("signup.no_token"));
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  useEffect(() => {
    if (!token) return;
    api.invitation(token).then(setInfo, (err) => setLinkError(adminErrorText(err)));
  }, []);

  const reset = info?.kind === "password_reset";
  const title = reset ? ta("signup.reset_title") : ta("signup.title");
  useEffect(() => {
    document.title = `${title} – Ting`;
  });

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setError(null);
    if (password.length < MIN_PASSWORD) return setError(ta("signup.short"));
    if (password !== repeat) return setError(ta("signup.mismatch"));
    setBusy(true);
    try {
      await api.acceptInvitation(token, password);
      // The token is spent: take it out of the address bar and history.
      history.replaceState(null, "", "/invite");
      try {
        sessionStorage.setItem(INVITED_USERNAME, info!.username);
      } catch {
        /* the sign-in page then starts empty */
      }
      setDone(true);
    } catch (err) {
      setError(adminErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth-page" data-testid="invite-page">
      <div class="auth-card">
        <div class="auth-brand">
          <Logo size={44} />
          <span class="brand-name">Ting</span>
        </div>
        <h1>{title}</h1>
        {linkError ? (
          <div>
            <p class="notice notice-warning" role="alert" data-testid="invite-link-error">
              {linkError}
            </p>
            <a class="button button-block" href="/">
              {ta("signup.sign_in")}
            </a>
          </div>
        ) : !info ? (
          <p class="muted" role="status">
            {ta("signup.checking")}
          </p>
        ) : done ? (
          <div role="status" data-testid="invite-done">
            <p class="notice notice-success">
              <IconCheck /> {ta(reset ? "signup.reset_done" : "signup.done", { name: info.username })}
            </p>
            <a class="button button-primary button-block" href="/" data-testid="invite-sign-in">
              {ta("signup.sign_in")}
            </a>
          </div>
        ) : (
          <>
            <p class="muted" data-testid="invite-intro">
              {ta(reset ? "signup.reset_intro" : "signup.intro", { name: info.username, date: formatDate(info.expires_at) })}
            </p>
            <form onSubmit={submit} noValidate>
              <label class="field">
                <span>{ta("signup.username")}</span>
                <input name="username" autocomplete="username" value={info.username} readOnly class="invite-username" data-testid="invite-username" />
              </label>
              <label class="field">
                <span>{ta("signup.password")}</span>
                <input type="password" autocomplete="new-password" value={password} onInput={(e) => {
                    setPassword(e.currentTarget.value);
                    setError(null);
                  }} data-testid="invite-password" autoFocus />
                <small class="muted">{ta("signup.password_hint")}</small>
              </label>
              <label class="field">
                <span>{ta("signup.repeat")}</span>
                <input type="password" autocomplete="new-password" value={repeat} onInput={(e) => {
                    setRepeat(e.currentTarget.value);
                    setError(null);
                  }} data-testid="invite-repeat" />
              </label>
              {error && (
                <p class="form-error" role="alert" data-testid="invite-error">
                  {error}
                </p>
              )}
              <button type="submit" class="button button-primary button-block" disabled={busy} data-testid="invite-submit">
                {busy ? ta("signup.busy") : ta(reset ? "signup.reset_submit" : "signup.submit")}
              </button>
            </form>
          </>
        )}
        <LangSwitch />
      </div>
    </main>
  );
}
