/** The room's members as the MLS group proves them, with their devices and verification state. */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText, t, tn } from "../i18n";
import { CallError } from "../crypto/rpc";
import type { MemberInfo } from "../crypto/types";
import { store } from "../app/store";
import { ConfirmDialog } from "./Dialog";
import { IconAlert, IconCheck, IconClose, IconPlus, IconShield } from "./icons";

function Badge(props: { state: MemberInfo["verification"] }): JSX.Element {
  if (props.state === "verified")
    return (
      <span class="verify-badge verified" data-testid="verification" data-state="verified">
        <IconCheck /> {t("members.verified")}
      </span>
    );
  if (props.state === "changed")
    return (
      <span class="verify-badge changed" data-testid="verification" data-state="changed">
        <IconAlert /> {t("members.changed")}
      </span>
    );
  return (
    <span class="verify-badge" data-testid="verification" data-state="unverified">
      <IconShield /> {t("members.unverified")}
    </span>
  );
}

export function Members(props: {
  roomId: string;
  /** Changes when the member list or verifications change (refetch). */
  version: string;
  readOnly: boolean;
  onClose: () => void;
  onInvite: () => void;
  onVerify: (username: string) => void;
}): JSX.Element {
  const [members, setMembers] = useState<MemberInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    store.crypto.call("members", props.roomId).then(
      (m) => live && setMembers(m),
      (err) => live && setError(err instanceof CallError ? err.code : "internal"),
    );
    return () => {
      live = false;
    };
  }, [props.roomId, props.version]);

  return (
    <aside class="members-panel" aria-labelledby="members-title" data-testid="members-panel">
      <header class="panel-head">
        <h2 id="members-title">{members ? `${t("members.title")} (${members.length})` : t("members.title")}</h2>
        <button type="button" class="icon-button" aria-label={t("members.close")} onClick={props.onClose} data-testid="members-close">
          <IconClose />
        </button>
      </header>
      {!props.readOnly && (
        <div class="panel-actions">
          <button type="button" class="button button-block" onClick={props.onInvite} data-testid="invite">
            <IconPlus /> {t("members.invite")}
          </button>
        </div>
      )}
      {error && (
        <p class="form-error" role="alert">
          {errorText(error)}
        </p>
      )}
      {!members && !error && <p class="muted panel-pad">{t("common.loading")}</p>}
      {members && (
        <ul class="member-list" data-testid="member-list">
          {members.map((m) => (
            <li key={m.username} class="member" data-testid="member" data-username={m.username}>
              <div class="member-main">
                <span class="room-avatar" aria-hidden="true">
                  {m.username.slice(0, 1).toUpperCase()}
                </span>
                <span class="member-text">
                  <span class="member-name">
                    {m.username}
                    {m.self && <span class="muted"> ({t("common.you")})</span>}
                  </span>
                  <span class="muted small">
                    {tn("devices", m.devices.length)}
                    {m.devices.some((d) => d.name) && `: ${m.devices.map((d) => d.name ?? "?").join(", ")}`}
                  </span>
                </span>
              </div>
              {!m.self && (
                <div class="member-actions">
                  <Badge state={m.verification} />
                  <button type="button" class="button button-small" onClick={() => props.onVerify(m.username)} data-testid="verify">
                    {m.verification === "verified" ? t("members.show_number") : t("members.verify")}
                  </button>
                  {!props.readOnly && (
                    <button type="button" class="button button-small button-quiet" onClick={() => setRemoving(m.username)} data-testid="remove-member">
                      {t("members.remove")}
                    </button>
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {removing && (
        <ConfirmDialog
          title={t("members.remove_title", { name: removing })}
          text={t("members.remove_text", { name: removing })}
          confirm={t("members.remove")}
          danger
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            try {
              await store.crypto.call("removeUser", props.roomId, removing);
            } catch (err) {
              store.toast(errorText(err instanceof CallError ? err.code : "internal"), "error");
            }
          }}
        />
      )}
    </aside>
  );
}
