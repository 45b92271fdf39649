/** Sign-in screen, and the language switch it shares with settings. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { errorText, t } from "../i18n";
import { CallError } from "../crypto/rpc";
import { store } from "../app/store";
import { IconLock, Logo } from "./icons";
import { LangSwitch } from "./LangSwitch";

export function loginError(err: unknown): string {
  if (err instanceof CallError) {
    if (err.code === "rate_limited" && err.retryAfter) return t("error.rate_limited_wait", { s: err.retryAfter });
    if (err.code === "invalid_input") return t("login.invalid_input");
    return errorText(err.code);
  }
  return errorText("internal");
}

export function Login(props: { notice: "expired" | "revoked" | null; lastUsername: string | null }): JSX.Element {
  const [username, setUsername] = useState(props.lastUsername ?? "");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!username.trim() || !password) {
      setError(t("login.missing"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await store.login(username, password);
    } catch (err) {
      setError(loginError(err));
      setBusy(false);
    }
  };

  return (
    <main class="auth-page" data-testid="login-page">
      <div class="auth-card">
        <div class="auth-brand">
          <Logo size={44} />
          <span class="brand-name">Ting</span>
        </div>
        <h1>{t("login.title")}</h1>
        {props.notice && (
          <p class="notice notice-warning" role="status" data-testid="session-notice">
            {props.notice === "revoked" ? t("login.revoked") : t("login.expired")}
          </p>
        )}
        <form onSubmit={submit} noValidate aria-describedby={error ? "login-error" : undefined}>
          <label class="field">
            <span>{t("login.username")}</span>
            <input
              name="username"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
              data-testid="login-username"
              required
              autoFocus={!props.lastUsername}
            />
          </label>
          <label class="field">
            <span>{t("login.password")}</span>
            <input
              name="password"
              type="password"
              autocomplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              data-testid="login-password"
              required
              autoFocus={!!props.lastUsername}
            />
          </label>
          {error && (
            <p id="login-error" class="form-error" role="alert" data-testid="login-error">
              {error}
            </p>
          )}
          <button type="submit" class="button button-primary button-block" disabled={busy} data-testid="login-submit">
            {busy ? t("login.busy") : t("login.submit")}
          </button>
        </form>
        <p class="auth-hint">
          <IconLock /> {t("login.hint")}
        </p>
        <LangSwitch />
      </div>
    </main>
  );
}
