/**
 * One account in the administration: its facts, the actions on it (password reset link,
 * administrator role, deactivate/reactivate; each confirmed with what it does to the user's
 * devices and keys), and its devices with last seen and revoke.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { formatDate } from "../i18n";
import { store } from "../app/store";
import { ConfirmDialog, Dialog } from "../ui/Dialog";
import type { AdminApi, AdminDevice, AdminUser, IssuedInvitation } from "./api";
import { lastSeen } from "./Accounts";
import { OneTimeLink } from "./OneTimeLink";
import { adminErrorText, ta } from "./strings-accounts";

interface Ask {
  title: string;
  text: string;
  confirm: string;
  danger: boolean;
  run: () => Promise<void>;
}

export function UserDialog(props: {
  api: AdminApi;
  user: AdminUser;
  local: boolean;
  self: string;
  onChanged: (u: AdminUser) => void;
  onIssued: () => void;
  onClose: () => void;
}): JSX.Element {
  const { api, user } = props;
  const name = user.username;
  const [devices, setDevices] = useState<AdminDevice[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [ask, setAsk] = useState<Ask | null>(null);
  const [issued, setIssued] = useState<IssuedInvitation | null>(null);

  const load = () =>
    api.devices(name).then(
      (r) => {
        setDevices(r.devices);
        setError(null);
      },
      (err) => setError(adminErrorText(err)),
    );
  useEffect(() => void load(), [name]);

  const act = (run: () => Promise<void>) => async () => {
    try {
      await run();
    } catch (err) {
      store.toast(adminErrorText(err), "error");
    }
  };
  const changed = (u: AdminUser, msg: string) => {
    store.toast(msg);
    props.onChanged(u);
    void load();
  };

  const deactivated = user.deactivated_at !== null;
  const isSelf = name === props.self;
  const active = devices?.filter((d) => d.revoked_at === null) ?? [];
  const revoked = devices?.filter((d) => d.revoked_at !== null) ?? [];

  const device = (d: AdminDevice) => (
    <li key={d.id} class={`device admin-device${d.revoked_at !== null ? " revoked" : ""}`} data-testid="admin-device" data-device-id={d.id}>
      <div>
        <strong>{d.name || d.id.slice(0, 8)}</strong>
        {d.revoked_at !== null ? (
          <span class="tag">{ta("user.device_revoked_tag")}</span>
        ) : (
          <span class={`tag${d.certified ? "" : " tag-warning"}`}>{ta(d.certified ? "user.device_certified" : "user.device_uncertified")}</span>
        )}
        <div class="muted small">
          {ta("user.device_added", { date: formatDate(d.created_at) })} ·{" "}
          {d.revoked_at !== null ? ta("user.device_revoked", { date: formatDate(d.revoked_at) }) : d.last_seen_at ? ta("user.device_seen", { date: formatDate(d.last_seen_at) }) : ta("user.device_never")}
        </div>
      </div>
      {d.revoked_at === null && (
        <button
          type="button"
          class="button button-small button-danger"
          aria-label={ta("user.revoke_label", { name: d.name })}
          data-testid="admin-revoke-device"
          onClick={() =>
            setAsk({
              title: ta("user.revoke_title", { name: d.name }),
              text: ta("user.revoke_text"),
              confirm: ta("user.revoke"),
              danger: true,
              run: async () => {
                await api.revokeDevice(d.id);
                store.toast(ta("user.revoked"));
                void load();
                props.onChanged({ ...user, active_devices: Math.max(0, user.active_devices - 1) });
              },
            })
          }
        >
          {ta("user.revoke")}
        </button>
      )}
    </li>
  );

  return (
    <Dialog title={ta("user.title", { name })} onClose={props.onClose} testid="account-dialog" wide>
      <dl class="admin-facts">
        <div>
          <dt>{ta("user.status")}</dt>
          <dd data-testid="account-status">
            {deactivated ? ta("acc.badge.deactivated") : ta("user.active")}
            {isSelf && <span class="tag">{ta("acc.badge.you")}</span>}
          </dd>
        </div>
        <div>
          <dt>{ta("user.role")}</dt>
          <dd data-testid="account-role">{ta(user.is_admin ? "user.role_admin" : "user.role_user")}</dd>
        </div>
        <div>
          <dt>{ta("user.created")}</dt>
          <dd>{formatDate(user.created_at)}</dd>
        </div>
        <div>
          <dt>{ta("user.last_seen")}</dt>
          <dd>{lastSeen(user.last_seen_at)}</dd>
        </div>
      </dl>

      <h3 class="admin-h3">{ta("user.actions")}</h3>
      <div class="button-row admin-actions">
        {props.local && (
          <button
            type="button"
            class="button"
            data-testid="account-reset"
            onClick={() =>
              setAsk({
                title: ta("user.reset_title", { name }),
                text: ta("user.reset_text", { name }),
                confirm: ta("user.reset"),
                danger: false,
                run: async () => {
                  setIssued(await api.passwordReset(name));
                  props.onIssued();
                },
              })
            }
          >
            {ta("user.reset")}
          </button>
        )}
        <button
          type="button"
          class="button"
          data-testid={user.is_admin ? "account-demote" : "account-promote"}
          onClick={() =>
            setAsk(
              user.is_admin
                ? {
                    title: ta("user.demote_title", { name }),
                    text: ta("user.demote_text", { name }),
                    confirm: ta("user.demote"),
                    danger: false,
                    run: async () => changed(await api.setAdmin(name, false), ta("user.demoted", { name })),
                  }
                : {
                    title: ta("user.promote_title", { name }),
                    text: ta("user.promote_text"),
                    confirm: ta("user.promote"),
                    danger: false,
                    run: async () => changed(await api.setAdmin(name, true), ta("user.promoted", { name })),
                  },
            )
          }
        >
          {ta(user.is_admin ? "user.demote" : "user.promote")}
        </button>
        {props.local && deactivated && (
          <button
            type="button"
            class="button button-primary"
            data-testid="account-reactivate"
            onClick={() =>
              setAsk({
                title: ta("user.reactivate_title", { name }),
                text: ta("user.reactivate_text", { name }),
                confirm: ta("user.reactivate"),
                danger: false,
                run: async () => changed(await api.reactivate(name), ta("user.reactivated", { name })),
              })
            }
          >
            {ta("user.reactivate")}
          </button>
        )}
        {props.local && !deactivated && !isSelf && (
          <button
            type="button"
            class="button button-danger"
            data-testid="account-deactivate"
            onClick={() =>
              setAsk({
                title: ta("user.deactivate_title", { name }),
                text: ta("user.deactivate_text", { name }),
                confirm: ta("user.deactivate"),
                danger: true,
                run: async () => changed(await api.deactivate(name), ta("user.deactivated", { name })),
              })
            }
          >
            {ta("user.deactivate")}
          </button>
        )}
      </div>
      {isSelf && props.local && <p class="muted small">{ta("user.self_note")}</p>}

      <h3 class="admin-h3">{ta("user.devices")}</h3>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {devices && devices.length === 0 && <p class="muted">{ta("user.devices_none")}</p>}
      {devices && devices.length > 0 && (
        <ul class="device-list" data-testid="admin-devices">
          {active.map(device)}
          {revoked.map(device)}
        </ul>
      )}

      {issued && (
        <Dialog title={ta("inv.reset_title", { name })} onClose={() => setIssued(null)} testid="reset-link-dialog" wide>
          <OneTimeLink issued={issued} onDone={() => setIssued(null)} />
        </Dialog>
      )}
      {ask && <ConfirmDialog title={ask.title} text={ask.text} confirm={ask.confirm} danger={ask.danger} onClose={() => setAsk(null)} onConfirm={act(ask.run)} />}
    </Dialog>
  );
}
