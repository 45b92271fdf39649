/**
 * First-administrator setup at `/setup#token=…`. The one-time token stays in the URL fragment,
 * which browsers never send to the server or in referrers; it is posted with the form only.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText, onLang, t } from "../i18n";
import { IconCheck, Logo } from "./icons";
import { LangSwitch } from "./LangSwitch";

function tokenFromHash(): string {
  return new URLSearchParams(location.hash.replace(/^#/, "")).get("token") ?? "";
}

export function Setup(): JSX.Element {
  const [, rerender] = useState(0);
  useEffect(() => onLang(() => rerender((n) => n + 1)), []);
  const [token] = useState(tokenFromHash);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    document.title = `${t("setup.title")} – Ting`;
  });

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setError(null);
    if (!token) return setError(t("setup.no_token"));
    if (!username.trim() || !password) return setError(t("login.missing"));
    if (password !== confirm) return setError(t("setup.mismatch"));
    setBusy(true);
    try {
      const resp = await fetch("/api/v1/setup", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ setup_token: token, username: username.trim(), password }),
        credentials: "omit",
      });
      if (resp.ok) {
        const user = (await resp.json()) as { username: string };
        history.replaceState(null, "", "/setup");
        setDone(user.username);
      } else {
        const body = (await resp.json().catch(() => ({}))) as { code?: string; message?: string };
        if (body.code === "invalid_input") setError(t("setup.invalid_input", { detail: body.message ?? "" }));
        else setError(errorText(body.code ?? "http_error"));
      }
    } catch {
      setError(errorText("network"));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth-page" data-testid="setup-page">
      <div class="auth-card">
        <div class="auth-brand">
          <Logo size={44} />
          <span class="brand-name">Ting</span>
        </div>
        <h1>{t("setup.title")}</h1>
        {done ? (
          <div role="status" data-testid="setup-done">
            <p class="notice notice-success">
              <IconCheck /> {t("setup.done", { name: done })}
            </p>
            <a class="button button-primary button-block" href="/">
              {t("setup.go_login")}
            </a>
          </div>
        ) : (
          <>
            <p class="muted">{t("setup.intro")}</p>
            {!token && (
              <p class="notice notice-warning" role="alert">
                {t("setup.no_token")}
              </p>
            )}
            <form onSubmit={submit} noValidate>
              <label class="field">
                <span>{t("login.username")}</span>
                <input autocomplete="username" autocapitalize="none" spellcheck={false} value={username} onInput={(e) => setUsername(e.currentTarget.value)} data-testid="setup-username" autoFocus />
                <small class="muted">{t("setup.username_hint")}</small>
              </label>
              <label class="field">
                <span>{t("login.password")}</span>
                <input type="password" autocomplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} data-testid="setup-password" />
                <small class="muted">{t("setup.password_hint")}</small>
              </label>
              <label class="field">
                <span>{t("setup.confirm")}</span>
                <input type="password" autocomplete="new-password" value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} data-testid="setup-confirm" />
              </label>
              {error && (
                <p class="form-error" role="alert" data-testid="setup-error">
                  {error}
                </p>
              )}
              <button type="submit" class="button button-primary button-block" disabled={busy} data-testid="setup-submit">
                {busy ? t("setup.busy") : t("setup.submit")}
              </button>
            </form>
          </>
        )}
        <LangSwitch />
      </div>
    </main>
  );
}
