/** A room: header, meeting, timeline, uploads, composer, members; files by drag and drop. */
import type { JSX } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { errorText, formatBytes, t, tn } from "../i18n";
import { CallError } from "../crypto/rpc";
import type { Entry, Timeline as TimelineData } from "../crypto/types";
import { go } from "../app/router";
import { store, useStore } from "../app/store";
import { meetingAvailable } from "../app/meeting-slot";
import { Composer, type ComposerMode } from "./Composer";
import { ConfirmDialog } from "./Dialog";
import { IconAlert, IconBack, IconLock, IconMore, IconUsers, IconVideo } from "./icons";
import { Meeting } from "./Meeting";
import { Members } from "./Members";
import type { MessageActions } from "./Message";
import { IdentityWarnings, SendBlocked } from "./IdentityNotices";
import { InviteDialog, RenameDialog } from "./RoomDialogs";
import { roomTitle } from "./RoomList";
import { SafetyDialog } from "./Safety";
import { Timeline } from "./Timeline";
import { useOutside } from "./outside";

const PAGE = 200;

function Uploads(props: { roomId: string }): JSX.Element | null {
  const uploads = useStore((s) => s.uploads).filter((u) => u.roomId === props.roomId);
  if (!uploads.length) return null;
  return (
    <ul class="uploads" aria-label={t("upload.title")} data-testid="uploads">
      {uploads.map((u) => (
        <li key={u.uploadId} class={`upload ${u.state}`} data-testid="upload" data-state={u.state}>
          <span class="upload-name">{u.name}</span>
          {u.state === "failed" ? (
            <span class="upload-error" role="alert">
              <IconAlert /> {t("upload.failed", { reason: errorText(u.error ?? "internal") })}
              <button type="button" class="link-button" onClick={() => void store.retryUpload(u.uploadId)}>
                {t("outbox.retry")}
              </button>
              <button type="button" class="link-button" onClick={() => store.dismissUpload(u.uploadId)}>
                {t("common.dismiss")}
              </button>
            </span>
          ) : (
            <>
              <progress max={u.total || 1} value={u.sent} aria-label={t("upload.progress", { name: u.name })} />
              <span class="muted small">{u.state === "sending" ? t("upload.sending") : `${formatBytes(u.sent)} / ${formatBytes(u.total)}`}</span>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

export function RoomView(props: { roomId: string; panel: "members" | null }): JSX.Element {
  const { roomId } = props;
  const session = useStore((s) => s.session);
  const summary = useStore((s) => s.rooms).find((r) => r.id === roomId);
  const self = session?.username ?? "";
  const [data, setData] = useState<TimelineData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [limit, setLimit] = useState(PAGE);
  const [mode, setMode] = useState<ComposerMode>({ kind: "new" });
  const [verifyCount, setVerifyCount] = useState(0);
  const [dialog, setDialog] = useState<null | "invite" | "rename" | "leave" | { verify: string } | { remove: Entry }>(null);
  const [menu, setMenu] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [meeting, setMeeting] = useState(false);
  const dragDepth = useRef(0);
  const menuRef = useRef<HTMLDivElement>(null);
  useOutside(menuRef, menu, () => setMenu(false));

  // A layout effect: the reset lands in the same commit as the room switch, so a reply or edit
  // started right after opening the room is not undone by a late effect.
  useLayoutEffect(() => {
    setMode({ kind: "new" });
    setLimit(PAGE);
    setMenu(false);
    setMeeting(false);
    setData(null);
    setError(null);
    void store.crypto.call("setActiveRoom", roomId).catch(() => undefined);
    return () => void store.crypto.call("setActiveRoom", null).catch(() => undefined);
  }, [roomId]);

  useEffect(() => {
    let live = true;
    const load = () =>
      store.crypto.call("timeline", roomId, limit).then(
        (d) => {
          if (!live) return;
          setData(d);
        },
        (err) => live && setError(err instanceof CallError ? err.code : "internal"),
      );
    void load();
    const off = store.onRoomsChanged((rooms) => {
      if (rooms.includes(roomId)) {
        void load();
        if (document.visibilityState === "visible") void store.crypto.call("markRead", roomId).catch(() => undefined);
      }
    });
    return () => {
      live = false;
      off();
    };
  }, [roomId, limit]);

  const title = data ? roomTitle({ name: data.name, members: summary?.members ?? [] }, self) : summary ? roomTitle(summary, self) : "";
  useEffect(() => {
    document.title = title ? `${title} – Ting` : "Ting";
  }, [title]);

  const removed = data?.removed ?? summary?.removed ?? false;
  const actions: MessageActions = {
    react: (id, emoji, remove) => void store.crypto.call("send", roomId, { type: "reaction", target: id, emoji, remove }).catch(() => undefined),
    reply: (entry) => setMode({ kind: "reply", to: entry }),
    edit: (entry) => setMode({ kind: "edit", of: entry }),
    remove: (entry) => setDialog({ remove: entry }),
    jumpTo: (seq) => {
      const el = document.querySelector<HTMLElement>(`[data-seq="${seq}"]`);
      if (el) {
        el.scrollIntoView({ block: "center", behavior: "smooth" });
        el.classList.add("flash");
        setTimeout(() => el.classList.remove("flash"), 1500);
      }
    },
  };

  const onFiles = async (files: File[]) => {
    let max = Infinity;
    try {
      max = await store.crypto.call("maxFileBytes");
    } catch {
      /* the server will say */
    }
    if (max === 0) {
      store.toast(t("upload.sharing_off"), "error");
      return;
    }
    for (const f of files) {
      if (f.size > max) store.toast(t("upload.too_large", { name: f.name, max: formatBytes(max) }), "error");
      else void store.upload(roomId, f);
    }
  };

  const dropProps = removed
    ? {}
    : {
        onDragEnter: (ev: DragEvent) => {
          if (!ev.dataTransfer?.types.includes("Files")) return;
          ev.preventDefault();
          dragDepth.current++;
          setDragging(true);
        },
        onDragOver: (ev: DragEvent) => {
          if (!ev.dataTransfer?.types.includes("Files")) return;
          ev.preventDefault();
          ev.dataTransfer.dropEffect = "copy";
        },
        onDragLeave: () => {
          dragDepth.current = Math.max(0, dragDepth.current - 1);
          if (!dragDepth.current) setDragging(false);
        },
        onDrop: (ev: DragEvent) => {
          ev.preventDefault();
          dragDepth.current = 0;
          setDragging(false);
          const files = [...(ev.dataTransfer?.files ?? [])];
          if (files.length) void onFiles(files);
        },
      };

  const membersOpen = props.panel === "members";
  const toggleMembers = () => go({ name: "room", roomId, panel: membersOpen ? null : "members" });

  return (
    <section class={`room${membersOpen ? " with-panel" : ""}`} aria-labelledby="room-title" data-testid="room-view" data-room-id={roomId} {...dropProps}>
      <div class="room-main">
        <header class="room-head">
          <a class="icon-button back-button" href="#/" aria-label={t("room.back")} data-testid="back">
            <IconBack />
          </a>
          <div class="room-title-wrap">
            <h1 id="room-title" class="room-title" data-testid="room-title">
              {title}
            </h1>
            <span class="room-sub muted small">
              <IconLock /> {t("room.e2ee")}
              {summary && summary.members.length > 0 && ` · ${tn("members", summary.members.length)}`}
            </span>
          </div>
          <div class="room-tools">
            {!removed && meetingAvailable() && (
              <button type="button" class="button button-small" onClick={() => setMeeting(true)} disabled={meeting} data-testid="start-meeting">
                <IconVideo /> <span class="hide-narrow">{t("room.meeting")}</span>
              </button>
            )}
            {!removed && <button type="button" class={`icon-button${membersOpen ? " active" : ""}`} aria-label={t("room.members")} aria-pressed={membersOpen} onClick={toggleMembers} data-testid="toggle-members">
              <IconUsers />
            </button>}
            {!removed && (
              <div class="menu-wrap" ref={menuRef}>
                <button type="button" class="icon-button" aria-label={t("room.more")} aria-haspopup="true" aria-expanded={menu} onClick={() => setMenu(!menu)} data-testid="room-menu">
                  <IconMore />
                </button>
                {menu && (
                  <div class="menu" role="menu" onKeyDown={(ev) => ev.key === "Escape" && setMenu(false)}>
                    <button type="button" role="menuitem" onClick={() => (setMenu(false), setDialog("invite"))} data-testid="menu-invite">
                      {t("members.invite")}
                    </button>
                    <button type="button" role="menuitem" onClick={() => (setMenu(false), setDialog("rename"))} data-testid="menu-rename">
                      {t("rename.title")}
                    </button>
                    <button type="button" role="menuitem" class="danger" onClick={() => (setMenu(false), setDialog("leave"))} data-testid="menu-leave">
                      {t("room.leave")}
                    </button>
                  </div>
                )}
              </div>
            )}
          </div>
        </header>
        {removed && (
          <p class="notice notice-warning room-notice" role="status" data-testid="removed-notice">
            {t("room.removed")}
          </p>
        )}
        {data && !removed && <IdentityWarnings identity={data.identity} onVerify={(u) => setDialog({ verify: u })} />}
        {meeting && session && (
          <Meeting roomId={roomId} roomName={title} onVerify={(u) => setDialog({ verify: u })} onClosed={() => setMeeting(false)} />
        )}
        {error && (
          <p class="form-error panel-pad" role="alert">
            {errorText(error)}
          </p>
        )}
        {data ? (
          <Timeline
            data={data}
            self={self}
            actions={actions}
            onMore={() => setLimit((l) => l + PAGE)}
            onRetry={(id) => void store.crypto.call("retry", roomId, id).catch(() => undefined)}
            onDiscard={(id) => void store.crypto.call("discard", roomId, id)}
          />
        ) : (
          !error && <div class="timeline muted panel-pad">{t("common.loading")}</div>
        )}
        <Uploads roomId={roomId} />
        {data && !removed && data.identity.blocked.length > 0 ? (
          <SendBlocked users={data.identity.blocked} />
        ) : (
          <Composer roomId={roomId} mode={mode} setMode={setMode} onFiles={(f) => void onFiles(f)} disabled={removed} self={self} />
        )}
        {dragging && (
          <div class="drop-overlay" aria-hidden="true">
            <span>{t("room.drop")}</span>
          </div>
        )}
      </div>
      {membersOpen && (
        <Members roomId={roomId} version={`${(summary?.members ?? []).join(",")}|${verifyCount}|${(data?.identity.changed ?? []).map((c) => c.user).join(",")}`} readOnly={removed} onClose={toggleMembers} onInvite={() => setDialog("invite")} onVerify={(u) => setDialog({ verify: u })} />
      )}
      {dialog === "invite" && <InviteDialog roomId={roomId} onClose={() => setDialog(null)} />}
      {dialog === "rename" && <RenameDialog roomId={roomId} current={data?.name ?? ""} onClose={() => setDialog(null)} />}
      {dialog === "leave" && (
        <ConfirmDialog
          title={t("room.leave_title")}
          text={t("room.leave_text")}
          confirm={t("room.leave")}
          danger
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            try {
              await store.crypto.call("leave", roomId);
            } catch (err) {
              store.toast(errorText(err instanceof CallError ? err.code : "internal"), "error");
            }
          }}
        />
      )}
      {dialog && typeof dialog === "object" && "verify" in dialog && <SafetyDialog roomId={roomId} username={dialog.verify} onClose={() => (setDialog(null), setVerifyCount((n) => n + 1))} />}
      {dialog && typeof dialog === "object" && "remove" in dialog && (
        <ConfirmDialog
          title={t("message.delete_title")}
          text={t("message.delete_text")}
          confirm={t("message.delete")}
          danger
          onClose={() => setDialog(null)}
          onConfirm={() => {
            const it = dialog.remove.item;
            if (it.kind === "text" || it.kind === "file") void store.crypto.call("send", roomId, { type: "redaction", target: it.id }).catch(() => undefined);
          }}
        />
      )}
    </section>
  );
}
