/**
 * Administration › Accounts: search and page through the accounts, invite someone by a
 * one-time link, withdraw pending links, and open an account (actions, devices).
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { formatDate, t } from "../i18n";
import { store } from "../app/store";
import { ConfirmDialog, Dialog } from "../ui/Dialog";
import { IconPlus } from "../ui/icons";
import type { AdminApi, AdminUser, AdminUserPage, IssuedInvitation, PendingInvitation } from "./api";
import { OneTimeLink } from "./OneTimeLink";
import { adminErrorText, ta } from "./strings-accounts";
import { UserDialog } from "./UserDevices";

const PAGE = 50;

export function lastSeen(at: number | null): string {
  return at ? formatDate(at) : ta("acc.never");
}

export function Badges(props: { user: AdminUser; self: string }): JSX.Element {
  const u = props.user;
  return (
    <>
      {u.username === props.self && <span class="tag">{ta("acc.badge.you")}</span>}
      {u.is_admin && (
        <span class="tag admin-tag-admin" data-testid="badge-admin">
          {ta("acc.badge.admin")}
        </span>
      )}
      {u.deactivated_at !== null && (
        <span class="tag admin-tag-off" data-testid="badge-deactivated">
          {ta("acc.badge.deactivated")}
        </span>
      )}
    </>
  );
}

function InviteDialog(props: { api: AdminApi; onClose: () => void; onIssued: () => void }): JSX.Element {
  const [username, setUsername] = useState("");
  const [admin, setAdmin] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [issued, setIssued] = useState<IssuedInvitation | null>(null);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!username.trim()) return setError(ta("inv.missing"));
    setBusy(true);
    setError(null);
    try {
      setIssued(await props.api.invite(username.trim(), admin));
      props.onIssued();
    } catch (err) {
      setError(adminErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={issued ? ta("inv.link_title", { name: issued.username }) : ta("inv.title")} onClose={props.onClose} testid="invite-user-dialog" wide>
      {issued ? (
        <OneTimeLink issued={issued} onDone={props.onClose} />
      ) : (
        <form onSubmit={submit} noValidate>
          <p class="muted">{ta("inv.intro")}</p>
          <label class="field">
            <span>{ta("inv.username")}</span>
            <input autocomplete="off" autocapitalize="none" spellcheck={false} value={username} onInput={(e) => setUsername(e.currentTarget.value)} data-testid="invite-user-name" autoFocus />
            <small class="muted">{ta("inv.username_hint")}</small>
          </label>
          <label class="admin-check">
            <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} data-testid="invite-user-admin" />
            <span>
              {ta("inv.admin")}
              <small class="muted">{ta("inv.admin_hint")}</small>
            </span>
          </label>
          {error && (
            <p class="form-error" role="alert" data-testid="invite-user-error">
              {error}
            </p>
          )}
          <div class="dialog-actions">
            <button type="button" class="button" onClick={props.onClose}>
              {t("common.cancel")}
            </button>
            <button type="submit" class="button button-primary" disabled={busy} data-testid="invite-user-submit">
              {busy ? ta("inv.busy") : ta("inv.submit")}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function Pending(props: { api: AdminApi; items: PendingInvitation[]; reload: () => void }): JSX.Element {
  const [withdraw, setWithdraw] = useState<PendingInvitation | null>(null);
  return (
    <section class="admin-card" aria-labelledby="adm-pending" data-testid="pending-invitations">
      <h2 id="adm-pending">{ta("inv.pending")}</h2>
      {props.items.length === 0 ? (
        <p class="muted">{ta("inv.pending_none")}</p>
      ) : (
        <ul class="admin-pending">
          {props.items.map((i) => (
            <li key={i.id} data-testid="pending-invitation" data-username={i.username}>
              <div>
                <strong>{i.username}</strong>
                <span class="tag">{ta(i.kind === "invite" ? "inv.kind.invite" : "inv.kind.password_reset")}</span>
                {i.admin && <span class="tag admin-tag-admin">{ta("acc.badge.admin")}</span>}
                <div class="muted small">
                  {ta("inv.expires", { date: formatDate(i.expires_at) })}
                  {i.created_by ? ` · ${ta("inv.by", { name: i.created_by })}` : ""}
                </div>
              </div>
              <button type="button" class="button button-small" onClick={() => setWithdraw(i)} data-testid="withdraw-invitation">
                {ta("inv.withdraw")}
              </button>
            </li>
          ))}
        </ul>
      )}
      {withdraw && (
        <ConfirmDialog
          title={ta("inv.withdraw_title", { name: withdraw.username })}
          text={ta("inv.withdraw_text")}
          confirm={ta("inv.withdraw")}
          danger
          onClose={() => setWithdraw(null)}
          onConfirm={async () => {
            try {
              await props.api.withdrawInvitation(withdraw.id);
              store.toast(ta("inv.withdrawn"));
            } catch (err) {
              store.toast(adminErrorText(err), "error");
            }
            props.reload();
          }}
        />
      )}
    </section>
  );
}

export function Accounts(props: { api: AdminApi; self: string }): JSX.Element {
  const { api } = props;
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  // Cursors of the pages seen so far: cursors[i] is the `after` of page i (null: the first).
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<AdminUserPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<PendingInvitation[]>([]);
  const [inviting, setInviting] = useState(false);
  const [open, setOpen] = useState<AdminUser | null>(null);
  const [tick, setTick] = useState(0);

  // Search as the administrator types, a moment after the last key.
  useEffect(() => {
    const timer = setTimeout(() => {
      setQuery(search.trim());
      setCursors([null]);
    }, 250);
    return () => clearTimeout(timer);
  }, [search]);

  const after = cursors[cursors.length - 1] ?? null;
  useEffect(() => {
    let live = true;
    api.users(query, after, PAGE).then(
      (p) => {
        if (!live) return;
        setPage(p);
        setError(null);
      },
      (err) => live && setError(adminErrorText(err)),
    );
    return () => {
      live = false;
    };
  }, [query, after, tick]);

  const loadPending = () =>
    api.invitations().then(
      (r) => setPending(r.invitations),
      () => undefined,
    );
  useEffect(() => void loadPending(), [tick]);

  const reload = () => setTick((n) => n + 1);
  const local = !page || page.management === "local";

  return (
    <div class="admin-accounts" data-testid="admin-accounts">
      <p class="muted admin-intro">{ta("acc.intro")}</p>
      {!local && (
        <p class="notice notice-warning" data-testid="accounts-managed">
          {ta("acc.managed", { source: page!.management.toUpperCase() })}
        </p>
      )}
      <div class="admin-toolbar">
        <label class="admin-search">
          <span class="visually-hidden">{ta("acc.search")}</span>
          <input type="search" placeholder={ta("acc.search_placeholder")} aria-label={ta("acc.search")} value={search} onInput={(e) => setSearch(e.currentTarget.value)} data-testid="accounts-search" />
        </label>
        {local && (
          <button type="button" class="button button-primary" onClick={() => setInviting(true)} data-testid="invite-user">
            <IconPlus /> {ta("acc.invite")}
          </button>
        )}
      </div>
      {error && (
        <p class="form-error" role="alert" data-testid="accounts-error">
          {error}
        </p>
      )}
      <p class="muted small" role="status" data-testid="accounts-total">
        {page ? ta(page.total === 1 ? "acc.total.one" : "acc.total.other", { n: page.total }) : ta("acc.loading")}
      </p>
      {page && page.users.length === 0 && <p class="muted">{ta("acc.none")}</p>}
      {page && page.users.length > 0 && (
        <table class="admin-table" data-testid="accounts-table">
          <thead>
            <tr>
              <th scope="col">{ta("acc.col.user")}</th>
              <th scope="col">{ta("acc.col.last_seen")}</th>
              <th scope="col">{ta("acc.col.devices")}</th>
              <th scope="col">{ta("acc.col.created")}</th>
              <th scope="col">
                <span class="visually-hidden">{ta("acc.col.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {page.users.map((u) => (
              <tr key={u.id} data-testid="account-row" data-username={u.username} class={u.deactivated_at !== null ? "admin-off" : undefined}>
                <th scope="row" data-label={ta("acc.col.user")}>
                  <span class="admin-user">{u.username}</span>
                  <Badges user={u} self={props.self} />
                </th>
                <td data-label={ta("acc.col.last_seen")}>{lastSeen(u.last_seen_at)}</td>
                <td data-label={ta("acc.col.devices")}>{u.active_devices}</td>
                <td data-label={ta("acc.col.created")}>{formatDate(u.created_at)}</td>
                <td class="admin-row-actions">
                  <button type="button" class="button button-small" aria-label={ta("acc.manage_label", { name: u.username })} onClick={() => setOpen(u)} data-testid="manage-account">
                    {ta("acc.manage")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page && (cursors.length > 1 || page.next) && (
        <nav class="admin-pager" aria-label={ta("acc.page", { n: cursors.length })}>
          <button type="button" class="button button-small" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))} data-testid="accounts-prev">
            {ta("acc.prev")}
          </button>
          <span class="muted small">{ta("acc.page", { n: cursors.length })}</span>
          <button type="button" class="button button-small" disabled={!page.next} onClick={() => page.next && setCursors([...cursors, page.next])} data-testid="accounts-next">
            {ta("acc.next")}
          </button>
        </nav>
      )}
      {local && <Pending api={api} items={pending} reload={reload} />}
      {inviting && <InviteDialog api={api} onClose={() => setInviting(false)} onIssued={() => void loadPending()} />}
      {open && (
        <UserDialog
          api={api}
          user={open}
          local={local}
          self={props.self}
          onChanged={(u) => {
            setOpen(u);
            reload();
          }}
          onIssued={() => void loadPending()}
          onClose={() => setOpen(null)}
        />
      )}
    </div>
  );
}
