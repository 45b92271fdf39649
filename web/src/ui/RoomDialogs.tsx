/** Create a room, invite someone, rename a room. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { errorText, t } from "../i18n";
import { CallError } from "../crypto/rpc";
import { go } from "../app/router";
import { store } from "../app/store";
import { Dialog } from "./Dialog";

function codeOf(err: unknown): string {
  return err instanceof CallError ? err.code : "internal";
}

export function inviteError(username: string, code: string): string {
  switch (code) {
    case "unknown_user":
      return t("invite.unknown_user", { name: username });
    case "no_key_packages":
      return t("invite.no_key_packages", { name: username });
    case "already_member":
      return t("invite.already_member", { name: username });
    default:
      return t("invite.failed", { name: username, reason: errorText(code) });
  }
}

function parseNames(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((s) => s.trim().replace(/^@/, "").toLowerCase()).filter(Boolean))];
}

export function CreateRoomDialog(props: { onClose: () => void }): JSX.Element {
  const [name, setName] = useState("");
  const [people, setPeople] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!name.trim()) return setError(t("create.name_missing"));
    setBusy(true);
    setError(null);
    try {
      const self = store.state.session?.username;
      const invite = parseNames(people).filter((u) => u !== self);
      const { roomId, failed } = await store.crypto.call("createRoom", name.trim(), invite);
      await store.refreshRooms();
      for (const f of failed) store.toast(inviteError(f.username, f.code), "error");
      props.onClose();
      go({ name: "room", roomId, panel: null });
    } catch (err) {
      setError(errorText(codeOf(err)));
      setBusy(false);
    }
  };

  return (
    <Dialog title={t("create.title")} onClose={props.onClose} testid="create-room-dialog">
      <form onSubmit={submit} noValidate>
        <label class="field">
          <span>{t("create.name")}</span>
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} maxLength={120} data-testid="create-room-name" autoFocus />
        </label>
        <label class="field">
          <span>{t("create.people")}</span>
          <input value={people} onInput={(e) => setPeople(e.currentTarget.value)} autocapitalize="none" spellcheck={false} data-testid="create-room-people" />
          <small class="muted">{t("create.people_hint")}</small>
        </label>
        <p class="muted small">{t("create.e2ee")}</p>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose}>
            {t("common.cancel")}
          </button>
          <button type="submit" class="button button-primary" disabled={busy} data-testid="create-room-submit">
            {busy ? t("create.busy") : t("create.submit")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function InviteDialog(props: { roomId: string; onClose: () => void }): JSX.Element {
  const [username, setUsername] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    const names = parseNames(username);
    if (!names.length) return setError(t("invite.missing"));
    setBusy(true);
    setError(null);
    const errors: string[] = [];
    for (const u of names) {
      try {
        await store.crypto.call("invite", props.roomId, u);
        store.toast(t("invite.done", { name: u }));
      } catch (err) {
        errors.push(inviteError(u, codeOf(err)));
      }
    }
    setBusy(false);
    if (errors.length) setError(errors.join(" "));
    else props.onClose();
  };

  return (
    <Dialog title={t("invite.title")} onClose={props.onClose} testid="invite-dialog">
      <form onSubmit={submit} noValidate>
        <label class="field">
          <span>{t("invite.username")}</span>
          <input value={username} onInput={(e) => setUsername(e.currentTarget.value)} autocapitalize="none" spellcheck={false} data-testid="invite-username" autoFocus />
          <small class="muted">{t("invite.hint")}</small>
        </label>
        {error && (
          <p class="form-error" role="alert" data-testid="invite-error">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose}>
            {t("common.cancel")}
          </button>
          <button type="submit" class="button button-primary" disabled={busy} data-testid="invite-submit">
            {busy ? t("invite.busy") : t("invite.submit")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function RenameDialog(props: { roomId: string; current: string; onClose: () => void }): JSX.Element {
  const [name, setName] = useState(props.current);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!name.trim()) return setError(t("create.name_missing"));
    setBusy(true);
    try {
      await store.crypto.call("rename", props.roomId, name.trim());
      props.onClose();
    } catch (err) {
      setError(errorText(codeOf(err)));
      setBusy(false);
    }
  };
  return (
    <Dialog title={t("rename.title")} onClose={props.onClose} testid="rename-dialog">
      <form onSubmit={submit} noValidate>
        <label class="field">
          <span>{t("create.name")}</span>
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} maxLength={120} autoFocus />
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose}>
            {t("common.cancel")}
          </button>
          <button type="submit" class="button button-primary" disabled={busy}>
            {t("common.save")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
