/**
 * Device linking. A new device of a user who already has an identity shows a link code (text
 * and QR) and waits; an existing device types the code in Settings, checks the new device's key
 * and approves it. The server only relays: the certificate comes from the user's own device.
 */
import type { JSX } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { errorText, formatTime, t } from "../i18n";
import { CallError } from "../crypto/rpc";
import type { LinkApproval, LinkStart } from "../crypto/types";
import { store, useStore } from "../app/store";
import { ConfirmDialog } from "./Dialog";
import { IconAlert, IconLock, Logo } from "./icons";
import { QrCode } from "./Safety";

const POLL_MS = 1500;

const codeOf = (err: unknown) => (err instanceof CallError ? err.code : "internal");

/** The new device: the code to enter on an existing device, until it is linked. */
export function LinkScreen(): JSX.Element {
  const session = useStore((s) => s.session);
  const [link, setLink] = useState<LinkStart | null>(null);
  const [state, setState] = useState<"starting" | "waiting" | "expired" | "done">("starting");
  const [error, setError] = useState<string | null>(null);
  const [confirmReset, setConfirmReset] = useState(false);
  const live = useRef(true);

  const start = () => {
    setError(null);
    setState("starting");
    store.crypto.call("linkStart").then(
      (l) => {
        if (!live.current) return;
        setLink(l);
        setState("waiting");
      },
      (err) => live.current && setError(codeOf(err)),
    );
  };

  useEffect(() => {
    live.current = true;
    document.title = `${t("link.title")} – Ting`;
    start();
    return () => {
      live.current = false;
    };
  }, []);

  useEffect(() => {
    if (state !== "waiting") return;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      store.crypto
        .call("linkPoll")
        .then(
          async (r) => {
            if (!live.current) return;
            if (r === "expired") setState("expired");
            else if (r !== "waiting") {
              setState("done");
              await store.enter(r);
            }
          },
          (err) => live.current && setError(codeOf(err)),
        )
        .finally(() => (busy = false));
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [state]);

  const qrBytes = useMemo(() => new TextEncoder().encode(link?.code ?? ""), [link?.code]);

  return (
    <main class="auth-page" data-testid="link-page">
      <div class="auth-card link-card">
        <div class="auth-brand">
          <Logo size={44} />
          <span class="brand-name">Ting</span>
        </div>
        <h1>{t("link.title")}</h1>
        <p>{t("link.intro")}</p>
        {link && state !== "expired" && (
          <div class="link-code-box">
            <QrCode bytes={qrBytes} label={t("link.qr_label")} testid="link-qr" />
            <p class="link-code-label muted small">{t("link.code_label")}</p>
            <p class="link-code mono" data-testid="link-code" data-code={link.code}>
              {link.code}
            </p>
            <button
              type="button"
              class="button button-small"
              onClick={() => void navigator.clipboard?.writeText(link.code).then(() => store.toast(t("link.copied")), () => undefined)}
            >
              {t("link.copy")}
            </button>
            <p class="muted small mono" data-testid="link-fingerprint">
              {t("link.fingerprint", { fp: link.fingerprint })}
            </p>
          </div>
        )}
        {state === "waiting" && (
          <p class="link-status" role="status" data-testid="link-waiting">
            <span class="spinner" aria-hidden="true" />
            <span>
              {t("link.waiting")} {link && t("link.expires", { time: formatTime(link.expiresAt / 1000) })}
            </span>
          </p>
        )}
        {state === "done" && (
          <p class="notice notice-success" role="status">
            {t("link.done")}
          </p>
        )}
        {state === "expired" && (
          <p class="notice notice-warning" role="status" data-testid="link-expired">
            <IconAlert /> {t("link.expired")}
          </p>
        )}
        {error && (
          <p class="form-error" role="alert" data-testid="link-error">
            {errorText(error)}
          </p>
        )}
        {(state === "expired" || error) && (
          <button type="button" class="button button-primary button-block" onClick={start} data-testid="link-new-code">
            {t("link.new_code")}
          </button>
        )}
        <details class="link-reset">
          <summary>{t("link.lost_title")}</summary>
          <p class="muted small">{t("link.reset_hint")}</p>
          <button type="button" class="button button-danger" onClick={() => setConfirmReset(true)} data-testid="link-reset">
            {t("link.reset")}
          </button>
        </details>
        <p class="auth-hint">
          <IconLock /> {t("settings.signed_in_as", { name: session?.username ?? "" })}{" "}
          <button type="button" class="link-button" onClick={() => void store.logout(false).catch(() => undefined)} data-testid="link-signout">
            {t("link.signout")}
          </button>
        </p>
      </div>
      {confirmReset && (
        <ConfirmDialog
          title={t("link.reset_title")}
          text={t("link.reset_text")}
          confirm={t("link.reset_confirm")}
          danger
          onClose={() => setConfirmReset(false)}
          onConfirm={async () => {
            try {
              live.current = false;
              await store.enter(await store.crypto.call("resetIdentity"));
            } catch (err) {
              live.current = true;
              setError(codeOf(err));
            }
          }}
        />
      )}
    </main>
  );
}

/** An existing device (Settings): enter the new device's code, check its key, approve. */
export function LinkDeviceCard(): JSX.Element {
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [preview, setPreview] = useState<LinkApproval | null>(null);
  const [approved, setApproved] = useState<string | null>(null);

  const check = async (ev: Event) => {
    ev.preventDefault();
    if (!code.trim()) return;
    setBusy(true);
    setError(null);
    setApproved(null);
    try {
      setPreview(await store.crypto.call("linkPreview", code));
    } catch (err) {
      setError(codeOf(err));
    } finally {
      setBusy(false);
    }
  };

  const approve = async () => {
    if (!preview) return;
    setBusy(true);
    setError(null);
    try {
      await store.crypto.call("linkApprove", code);
      setApproved(preview.deviceName);
      setPreview(null);
      setCode("");
    } catch (err) {
      setError(codeOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="s-link" data-testid="link-device">
      <h2 id="s-link">{t("link.settings_title")}</h2>
      <p class="muted">{t("link.settings_intro")}</p>
      {!preview && (
        <form class="link-form" onSubmit={check} noValidate>
          <label class="field">
            <span>{t("link.enter_code")}</span>
            <input
              class="mono"
              autocomplete="off"
              autocapitalize="none"
              spellcheck={false}
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
              data-testid="link-code-input"
            />
          </label>
          <button type="submit" class="button button-primary" disabled={busy || !code.trim()} data-testid="link-code-submit">
            {t("link.check")}
          </button>
        </form>
      )}
      {preview && (
        <div class="link-confirm" data-testid="link-confirm">
          <h3>{t("link.confirm_title", { name: preview.deviceName })}</h3>
          <p>{t("link.confirm_text")}</p>
          <dl class="link-facts">
            <dt>{t("link.device_id")}</dt>
            <dd>
              <strong data-testid="link-device-name">{preview.deviceName}</strong> <span class="muted small mono">{preview.deviceId}</span>
            </dd>
            <dt>{t("link.device_key")}</dt>
            <dd class="mono link-fp" data-testid="link-confirm-fingerprint">
              {preview.fingerprint}
            </dd>
          </dl>
          <div class="button-row">
            <button type="button" class="button" onClick={() => (setPreview(null), setError(null))}>
              {t("common.cancel")}
            </button>
            <button type="button" class="button button-primary" onClick={() => void approve()} disabled={busy} data-testid="link-approve">
              {t("link.approve")}
            </button>
          </div>
        </div>
      )}
      {error && (
        <p class="form-error" role="alert" data-testid="link-device-error">
          {errorText(error)}
        </p>
      )}
      {approved && (
        <p class="notice notice-success" role="status" data-testid="link-approved">
          {t("link.approved", { name: approved })}
        </p>
      )}
    </section>
  );
}
