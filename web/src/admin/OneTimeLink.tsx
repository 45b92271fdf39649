/** A one-time link (invitation or password reset) shown once, with a copy button. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { formatDate } from "../i18n";
import { IconCheck } from "../ui/icons";
import type { IssuedInvitation } from "./api";
import { ta } from "./strings-accounts";

export function fullLink(issued: IssuedInvitation): string {
  return new URL(issued.link, location.origin).toString();
}

export function OneTimeLink(props: { issued: IssuedInvitation; onDone: () => void }): JSX.Element {
  const [copied, setCopied] = useState(false);
  const link = fullLink(props.issued);
  const copy = async (ev: Event) => {
    const input = (ev.currentTarget as HTMLElement).closest(".admin-link")?.querySelector("input");
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      // No clipboard permission: select the text so the person can copy it themselves.
      input?.select();
      document.execCommand?.("copy");
    }
    setCopied(true);
  };
  return (
    <div class="admin-link" data-testid="one-time-link">
      <p class="notice notice-warning">{ta("inv.link_text", { date: formatDate(props.issued.expires_at) })}</p>
      <label class="field">
        <span>{ta("inv.link_label")}</span>
        <input readOnly value={link} class="mono" data-testid="invite-link" onFocus={(e) => e.currentTarget.select()} />
      </label>
      <div class="dialog-actions">
        <button type="button" class="button" onClick={copy} data-testid="copy-link">
          {copied ? (
            <>
              <IconCheck /> {ta("inv.copied")}
            </>
          ) : (
            ta("inv.copy")
          )}
        </button>
        <button type="button" class="button button-primary" onClick={props.onDone} data-testid="link-done">
          {ta("inv.done")}
        </button>
      </div>
    </div>
  );
}
