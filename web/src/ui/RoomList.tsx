/** The sidebar: brand, new room, the room list with unread counts, settings. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { formatTime, t, tn } from "../i18n";
import { href } from "../app/router";
import { useStore } from "../app/store";
import type { RoomSummary } from "../crypto/types";
import { CreateRoomDialog } from "./RoomDialogs";
import { IconAlert, IconPlus, IconSettings, Logo } from "./icons";

export function roomTitle(r: { name: string | null; members?: string[] }, self?: string): string {
  if (r.name) return r.name;
  const others = (r.members ?? []).filter((m) => m !== self);
  return others.length ? others.join(", ") : t("room.unnamed");
}

function preview(r: RoomSummary, self: string): string {
  const p = r.lastPreview;
  if (r.removed) return t("rooms.left");
  if (!p) return t("rooms.empty");
  const who = p.sender === self ? t("common.you") : p.sender;
  if (p.kind === "file") return `${who}: ${t("rooms.file", { name: p.text })}`;
  if (p.kind === "text") return `${who}: ${p.text || t("message.deleted")}`;
  return r.removed ? t("rooms.left") : t("rooms.empty");
}

export function RoomList(props: { activeRoom: string | null; settingsActive: boolean }): JSX.Element {
  const rooms = useStore((s) => s.rooms);
  const session = useStore((s) => s.session);
  const [creating, setCreating] = useState(false);
  const self = session?.username ?? "";

  return (
    <aside class="sidebar" aria-label={t("rooms.sidebar")}>
      <header class="sidebar-head">
        <div class="brand">
          <Logo size={28} />
          <span class="brand-name">Ting</span>
        </div>
        <a class={`icon-button${props.settingsActive ? " active" : ""}`} href="#/settings" aria-label={t("settings.title")} title={t("settings.title")} data-testid="open-settings" aria-current={props.settingsActive ? "page" : undefined}>
          <IconSettings />
        </a>
      </header>
      <div class="sidebar-actions">
        <button type="button" class="button button-primary button-block" onClick={() => setCreating(true)} data-testid="new-room">
          <IconPlus /> {t("rooms.new")}
        </button>
      </div>
      <nav class="room-nav" aria-label={t("rooms.title")}>
        <h2 class="visually-hidden">{t("rooms.title")}</h2>
        {rooms.length === 0 ? (
          <p class="muted empty-rooms" data-testid="no-rooms">
            {t("rooms.none")}
          </p>
        ) : (
          <ul class="room-list" data-testid="room-list">
            {rooms.map((r) => {
              const title = roomTitle(r, self);
              const active = r.id === props.activeRoom;
              return (
                <li key={r.id}>
                  <a
                    href={href({ name: "room", roomId: r.id, panel: null })}
                    class={`room-item${active ? " active" : ""}${r.removed ? " removed" : ""}${r.unread ? " has-unread" : ""}`}
                    aria-current={active ? "page" : undefined}
                    data-testid="room-item"
                    data-room-id={r.id}
                    data-room-name={title}
                  >
                    <span class="room-avatar" aria-hidden="true">
                      {title.slice(0, 1).toUpperCase()}
                    </span>
                    <span class="room-text">
                      <span class="room-line">
                        <span class="room-name">{title}</span>
                        {r.lastAt > 0 && <span class="room-time">{formatTime(r.lastAt)}</span>}
                      </span>
                      <span class="room-line">
                        <span class="room-preview">{preview(r, self)}</span>
                        {r.failed > 0 && (
                          <span class="room-failed" title={t("rooms.failed")}>
                            <IconAlert />
                            <span class="visually-hidden">{t("rooms.failed")}</span>
                          </span>
                        )}
                        {r.unread > 0 && (
                          <span class="badge" data-testid="unread" aria-label={tn("unread", r.unread)}>
                            {r.unread > 99 ? "99+" : r.unread}
                          </span>
                        )}
                      </span>
                    </span>
                  </a>
                </li>
              );
            })}
          </ul>
        )}
      </nav>
      <footer class="sidebar-foot">
        <span class="muted" data-testid="signed-in-as">
          {t("rooms.signed_in_as", { name: self })}
        </span>
      </footer>
      {creating && <CreateRoomDialog onClose={() => setCreating(false)} />}
    </aside>
  );
}
