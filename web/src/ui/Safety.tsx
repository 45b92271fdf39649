/**
 * Safety-number verification: both people see the same 60 digits (and QR code) for each other
 * when no one is in between; after comparing them in person or on a call, "mark as verified"
 * remembers the other user's current fingerprint. A new device changes it and the mark lapses.
 */
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import qrcode from "qrcode-generator";
import { errorText, t } from "../i18n";
import { CallError } from "../crypto/rpc";
import type { SafetyView } from "../crypto/types";
import { store } from "../app/store";
import { Dialog } from "./Dialog";
import { IconCheck, IconShield } from "./icons";

/** A QR code of raw bytes as an SVG path (no images, no inline styles). */
export function QrCode(props: { bytes: Uint8Array; label: string; testid?: string }): JSX.Element {
  const { path, size } = useMemo(() => {
    const qr = qrcode(0, "M");
    qr.addData(String.fromCharCode(...props.bytes), "Byte");
    qr.make();
    const n = qr.getModuleCount();
    let d = "";
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) if (qr.isDark(y, x)) d += `M${x + 4} ${y + 4}h1v1h-1z`;
    }
    return { path: d, size: n + 8 };
  }, [props.bytes]);
  return (
    <svg class="qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={props.label} shape-rendering="crispEdges" data-testid={props.testid ?? "safety-qr"}>
      <rect width={size} height={size} class="qr-bg" />
      <path d={path} class="qr-fg" />
    </svg>
  );
}

export function SafetyDialog(props: { roomId: string; username: string; onClose: () => void }): JSX.Element {
  const [view, setView] = useState<SafetyView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = () =>
    store.crypto.call("safetyNumber", props.roomId, props.username).then(setView, (err) => setError(err instanceof CallError ? err.code : "internal"));
  useEffect(() => {
    void load();
  }, [props.roomId, props.username]);

  const toggle = async () => {
    if (!view) return;
    setBusy(true);
    try {
      await store.crypto.call("setVerified", props.roomId, props.username, !view.verified);
      await load();
    } catch (err) {
      setError(err instanceof CallError ? err.code : "internal");
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={t("safety.title", { name: props.username })} onClose={props.onClose} testid="safety-dialog" describedBy="safety-intro">
      <p id="safety-intro" class="muted">
        {t("safety.intro", { name: props.username })}
      </p>
      {error && (
        <p class="form-error" role="alert">
          {errorText(error)}
        </p>
      )}
      {view && (
        <>
          <div class="safety-layout">
            <div class="safety-digits" data-testid="safety-digits" data-digits={view.digits} aria-label={t("safety.digits_label")} role="group">
              {view.groups.map((g, i) => (
                <span class="digit-group" key={i}>
                  {g}
                </span>
              ))}
            </div>
            <QrCode bytes={view.qrPayload} label={t("safety.qr_label")} />
          </div>
          <p class={`verify-state ${view.verified ? "is-verified" : ""}`} data-testid="safety-state" data-verified={view.verified}>
            {view.verified ? (
              <>
                <IconCheck /> {t("safety.is_verified", { name: props.username })}
              </>
            ) : (
              <>
                <IconShield /> {t("safety.not_verified")}
              </>
            )}
          </p>
          <div class="dialog-actions">
            <button type="button" class="button" onClick={props.onClose}>
              {t("common.close")}
            </button>
            <button type="button" class={`button ${view.verified ? "" : "button-primary"}`} onClick={toggle} disabled={busy} data-testid="safety-toggle">
              {view.verified ? t("safety.unmark") : t("safety.mark")}
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
