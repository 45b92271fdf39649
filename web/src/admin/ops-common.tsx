/** Pieces shared by the Policy, Audit log, Compliance and Health pages. */
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText, onLang } from "../i18n";
import { ApiError } from "../crypto/api";
import { to } from "./strings-ops";
import "../styles/admin-ops.css";
import "../styles/admin-ops-records.css";

/** Re-renders the calling component when the UI language changes. */
export function useLangRefresh(): void {
  const [, rerender] = useState(0);
  useEffect(() => onLang(() => rerender((n) => n + 1)), []);
}

/** A refusal or failure as a sentence. */
export function reason(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === "admin_only") return to("ops.admin_only");
    return err.message && err.code === "invalid_policy" ? err.message : errorText(err.code);
  }
  return errorText("internal");
}

/** Offers `blob` as a download named `name`. */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The page frame: heading, lead text, then the body. */
export function OpsPage(props: { id: string; title: string; intro?: ComponentChildren; children: ComponentChildren; actions?: ComponentChildren }): JSX.Element {
  return (
    <section class="ops-page" aria-labelledby={`${props.id}-title`} data-testid={`admin-${props.id}`}>
      <div class="ops-head">
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        {props.actions ? <div class="button-row">{props.actions}</div> : null}
      </div>
      {props.intro ? <p class="ops-intro muted">{props.intro}</p> : null}
      {props.children}
    </section>
  );
}

/** A load failure with a way to try again. */
export function LoadError(props: { error: unknown; retry?: () => void }): JSX.Element {
  const forbidden = props.error instanceof ApiError && props.error.code === "admin_only";
  return (
    <div class="ops-error" role="alert" data-testid="ops-error">
      <p>{forbidden ? to("ops.admin_only") : to("ops.failed", { reason: reason(props.error) })}</p>
      {props.retry && !forbidden ? (
        <button type="button" class="button button-small" onClick={props.retry}>
          {to("ops.retry")}
        </button>
      ) : null}
    </div>
  );
}

/** Text with `code` spans in backticks rendered as <code>. */
export function WithCode(props: { text: string }): JSX.Element {
  const parts = props.text.split(/(`[^`]+`)/g);
  return (
    <>
      {parts.map((p, i) => (p.length > 2 && p.startsWith("`") && p.endsWith("`") ? <code key={i}>{p.slice(1, -1)}</code> : p))}
    </>
  );
}

/** Seconds as the largest whole unit (days, hours, minutes, seconds). */
export function duration(secs: number): string {
  if (secs > 0 && secs % 86400 === 0) return secs === 86400 ? to("dur.day") : to("dur.days", { n: secs / 86400 });
  if (secs > 0 && secs % 3600 === 0) return secs === 3600 ? to("dur.hour") : to("dur.hours", { n: secs / 3600 });
  if (secs > 0 && secs % 60 === 0) return to("dur.minutes", { n: secs / 60 });
  return to("dur.seconds", { n: secs });
}

/** Uptime as "3 d 4 h 5 min" (both languages abbreviate alike). */
export function uptime(secs: number): string {
  const d = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const parts: string[] = [];
  if (d) parts.push(`${d} d`);
  if (d || h) parts.push(`${h} h`);
  parts.push(`${m} min`);
  return parts.join(" ");
}
