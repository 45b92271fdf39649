/**
 * Warnings about security identities in a room: a member whose master identity key changed
 * (a reset, or someone presenting other keys), this user's own identity reset elsewhere, and
 * the composer's pause while a verified member's new key is not accepted.
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { errorText, t } from "../i18n";
import { CallError } from "../crypto/rpc";
import type { RoomIdentity } from "../crypto/types";
import { store } from "../app/store";
import { IconAlert } from "./icons";

async function accept(user: string, setBusy: (b: boolean) => void): Promise<void> {
  setBusy(true);
  try {
    await store.crypto.call("acceptIdentity", user);
  } catch (err) {
    store.toast(errorText(err instanceof CallError ? err.code : "internal"), "error");
  } finally {
    setBusy(false);
  }
}

/** Above the timeline: one warning per changed member, and the own-reset notice. */
export function IdentityWarnings(props: { identity: RoomIdentity; onVerify: (user: string) => void }): JSX.Element | null {
  const { changed, ownReset, splitView } = props.identity;
  if (!changed.length && !ownReset && !splitView) return null;
  return (
    <div class="identity-warnings">
      {splitView && (
        <div class="notice notice-danger" role="alert" data-testid="split-view-warning">
          <IconAlert />
          <div>
            <p>{t("keylog.split_view")}</p>
            <details>
              <summary>{t("keylog.details")}</summary>
              <p class="muted-detail">{splitView}</p>
            </details>
          </div>
        </div>
      )}
      {ownReset && (
        <p class="notice notice-danger" role="alert" data-testid="own-reset-warning">
          <IconAlert /> <span>{t("identity.own_reset")}</span>
        </p>
      )}
      {changed.map((c) => (
        <div key={c.user} class="notice notice-danger identity-warning" role="alert" data-testid="identity-warning" data-user={c.user} data-blocking={c.wasVerified}>
          <IconAlert />
          <div>
            <p>{c.wasVerified ? t("identity.changed_verified", { name: c.user }) : t("identity.changed", { name: c.user })}</p>
            <div class="identity-actions">
              <button type="button" class="link-button" onClick={() => props.onVerify(c.user)} data-testid="identity-verify">
                {t("members.show_number")}
              </button>
              {!c.wasVerified && <AcceptButton user={c.user} link />}
            </div>
          </div>
        </div>
      ))}
    </div>
  );
}

function AcceptButton(props: { user: string; link?: boolean; label?: string }): JSX.Element {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class={props.link ? "link-button" : "button button-small"}
      disabled={busy}
      onClick={() => void accept(props.user, setBusy)}
      data-testid="accept-identity"
      data-user={props.user}
    >
      {props.label ?? t("identity.accept")}
    </button>
  );
}

/** Across the top of the app: the server's key log was refused (rollback, fork, bad proof). */
export function KeyLogBanner(props: { why: string }): JSX.Element {
  return (
    <div class="banner banner-danger keylog-banner" role="alert" data-testid="keylog-warning">
      <IconAlert />
      <div>
        <strong>{t("keylog.warning_title")}</strong>
        <p>{t("keylog.warning")}</p>
        <details>
          <summary>{t("keylog.details")}</summary>
          <p class="muted-detail">{props.why}</p>
        </details>
      </div>
    </div>
  );
}

/** In place of the composer while sending is paused. */
export function SendBlocked(props: { users: string[] }): JSX.Element {
  return (
    <div class="composer composer-blocked" role="status" data-testid="composer-blocked">
      <p>
        <IconAlert /> {t("identity.blocked", { names: props.users.join(", ") })}
      </p>
      <div class="button-row">
        {props.users.map((u) => (
          <AcceptButton key={u} user={u} label={props.users.length > 1 ? `${t("identity.accept")} (${u})` : undefined} />
        ))}
      </div>
    </div>
  );
}
