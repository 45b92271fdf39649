/** One history line: a message with its reply quote, reactions and actions, or a notice line. */
import type { ComponentChildren, JSX } from "preact";
import { useRef, useState } from "preact/hooks";
import { formatDate, formatTime, t } from "../i18n";
import type { Entry, Timeline } from "../crypto/types";
import { FileView } from "./FileView";
import { IconAlert, IconEdit, IconReply, IconSmile, IconTrash } from "./icons";
import { useOutside } from "./outside";

export const QUICK_REACTIONS = ["👍", "❤️", "😄", "🎉", "😮", "😢"];

export interface MessageActions {
  react(id: string, emoji: string, remove: boolean): void;
  reply(entry: Entry): void;
  edit(entry: Entry): void;
  remove(entry: Entry): void;
  jumpTo(seq: number): void;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

/** Text with web addresses as links (opened without referrer or opener). */
function Linkified(props: { text: string }): JSX.Element {
  const out: ComponentChildren[] = [];
  let last = 0;
  for (const m of props.text.matchAll(URL_RE)) {
    const at = m.index ?? 0;
    if (at > last) out.push(props.text.slice(last, at));
    out.push(
      <a href={m[0]} target="_blank" rel="noopener noreferrer" key={at}>
        {m[0]}
      </a>,
    );
    last = at + m[0].length;
  }
  if (last < props.text.length) out.push(props.text.slice(last));
  return <>{out}</>;
}

export function systemText(e: Entry, self: string): string | null {
  const it = e.item;
  const who = (u: string) => (u === self ? t("common.you") : u);
  const list = (us: string[]) => us.map(who).join(", ");
  switch (it.kind) {
    case "roomName":
      return t("system.renamed", { who: who(e.sender), name: it.name });
    case "roomTopic":
      return t("system.topic", { who: who(e.sender), topic: it.topic });
    case "joined":
      return it.by === self ? t("system.joined_device") : t("system.joined", { who: who(it.by) });
    case "membership": {
      const parts: string[] = [];
      const newDevice = it.added.length > 0 && it.added.every((u) => u === e.sender);
      const added = it.added.filter((u) => u !== e.sender);
      if (newDevice && !added.length) parts.push(t("system.new_device", { who: who(e.sender) }));
      else if (added.length) parts.push(t("system.added", { who: who(e.sender), whom: list(added) }));
      const removedDevice = it.removed.length > 0 && it.removed.every((u) => u === e.sender);
      if (removedDevice) parts.push(t("system.removed_device", { who: who(e.sender) }));
      else if (it.removed.length) parts.push(t("system.removed", { who: who(e.sender), whom: list(it.removed) }));
      if (it.left.length) parts.push(t("system.left", { whom: list(it.left) }));
      return parts.join(" ");
    }
    default:
      return null;
  }
}

export function MessageLine(props: {
  entry: Entry;
  continued: boolean;
  self: string;
  quotes: Timeline["quotes"];
  actions: MessageActions;
  readOnly: boolean;
}): JSX.Element {
  const { entry: e, self, actions } = props;
  const it = e.item;
  const [picking, setPicking] = useState(false);
  const toolbar = useRef<HTMLDivElement>(null);
  useOutside(toolbar, picking, () => setPicking(false));

  if (it.kind === "undecryptable") {
    const text = it.reason === "verification" ? t("message.unverified") : it.reason === "unknown_kind" ? t("message.unknown_kind") : it.reason === "not_member" ? t("message.not_member") : t("message.undecryptable");
    return (
      <div class="line line-warning" data-testid="undecryptable" data-seq={e.seq} role="note">
        <IconAlert />
        <span>
          {text}{" "}
          <span class="muted small" title={it.detail}>
            {formatTime(e.at)}
          </span>
        </span>
      </div>
    );
  }
  if (it.kind !== "text" && it.kind !== "file") {
    return (
      <div class="line line-system" data-testid="system-line" data-seq={e.seq}>
        <span>{systemText(e, self)}</span> <span class="muted small">{formatTime(e.at)}</span>
      </div>
    );
  }

  const own = e.sender === self;
  const quote = it.kind === "text" && it.replyTo ? props.quotes[it.replyTo] : undefined;
  const reactions = Object.entries(it.reactions).filter(([, users]) => users.length);
  const canAct = !props.readOnly && !it.redacted;

  return (
    <article
      class={`msg${own ? " own" : ""}${props.continued ? " continued" : ""}`}
      data-testid="message"
      data-seq={e.seq}
      data-sender={e.sender}
      data-id={it.id}
      aria-label={t("message.label", { who: own ? t("common.you") : e.sender, time: formatDate(e.at) })}
    >
      {!props.continued && (
        <header class="msg-head">
          <span class="msg-sender">{own ? t("common.you") : e.sender}</span>
          <time class="msg-time" dateTime={new Date(e.at * 1000).toISOString()} title={formatDate(e.at)}>
            {formatTime(e.at)}
          </time>
        </header>
      )}
      <div class="msg-bubble">
        {quote && (
          <button type="button" class="msg-quote" onClick={() => actions.jumpTo(quote.seq)} data-testid="reply-quote" aria-label={t("message.reply_to", { who: quote.sender })}>
            <span class="quote-sender">{quote.sender === self ? t("common.you") : quote.sender}</span>
            <span class="quote-text">{quote.redacted ? t("message.deleted") : quote.text}</span>
          </button>
        )}
        {it.redacted ? (
          <p class="msg-text msg-deleted" data-testid="message-deleted">
            {t("message.deleted")}
          </p>
        ) : it.kind === "text" ? (
          <p class="msg-text" data-testid="message-text">
            <Linkified text={it.body} />
            {it.edited && (
              <span class="msg-edited muted" data-testid="message-edited">
                {" "}
                {t("message.edited")}
              </span>
            )}
          </p>
        ) : (
          <FileView file={it.file} />
        )}
      </div>
      {reactions.length > 0 && (
        <div class="reactions" data-testid="reactions">
          {reactions.map(([emoji, users]) => {
            const mine = users.includes(self);
            return (
              <button
                type="button"
                key={emoji}
                class="reaction"
                aria-pressed={mine}
                disabled={!canAct}
                title={users.join(", ")}
                aria-label={t("message.reaction", { emoji, n: users.length, who: users.join(", ") })}
                onClick={() => actions.react(it.id, emoji, mine)}
                data-testid="reaction"
                data-emoji={emoji}
              >
                <span aria-hidden="true">{emoji}</span> <span class="reaction-count">{users.length}</span>
              </button>
            );
          })}
        </div>
      )}
      {canAct && (
        <div class={`msg-actions${picking ? " open" : ""}`} role="toolbar" aria-label={t("message.actions")} ref={toolbar}>
          <button type="button" class="icon-button" aria-label={t("message.react")} aria-expanded={picking} onClick={() => setPicking(!picking)} data-testid="action-react">
            <IconSmile />
          </button>
          <button type="button" class="icon-button" aria-label={t("message.reply")} onClick={() => actions.reply(e)} data-testid="action-reply">
            <IconReply />
          </button>
          {own && it.kind === "text" && (
            <button type="button" class="icon-button" aria-label={t("message.edit")} onClick={() => actions.edit(e)} data-testid="action-edit">
              <IconEdit />
            </button>
          )}
          {own && (
            <button type="button" class="icon-button" aria-label={t("message.delete")} onClick={() => actions.remove(e)} data-testid="action-delete">
              <IconTrash />
            </button>
          )}
          {picking && (
            <div
              class="emoji-picker"
              role="group"
              aria-label={t("message.react")}
              onKeyDown={(ev) => {
                if (ev.key === "Escape") setPicking(false);
              }}
            >
              {QUICK_REACTIONS.map((emoji) => (
                <button
                  type="button"
                  key={emoji}
                  class="emoji"
                  aria-label={emoji}
                  data-testid="emoji"
                  data-emoji={emoji}
                  onClick={() => {
                    setPicking(false);
                    actions.react(it.id, emoji, (it.reactions[emoji] ?? []).includes(self));
                  }}
                >
                  {emoji}
                </button>
              ))}
            </div>
          )}
        </div>
      )}
    </article>
  );
}
