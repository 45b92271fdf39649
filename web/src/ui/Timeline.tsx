/** The room's history: day separators, grouped messages, unsent messages with retry. */
import type { JSX } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import { errorText, formatDay, t } from "../i18n";
import type { Entry, OutboxItem, Timeline as TimelineData } from "../crypto/types";
import { MessageLine, type MessageActions } from "./Message";
import { IconAlert } from "./icons";

const GROUP_SECS = 5 * 60;

function dayKey(at: number): string {
  return new Date(at * 1000).toDateString();
}

function outboxText(o: OutboxItem): string {
  switch (o.body.type) {
    case "text":
      return o.body.body;
    case "edit":
      return t("outbox.edit", { text: o.body.body });
    case "reaction":
      return t("outbox.reaction", { emoji: o.body.emoji });
    case "redaction":
      return t("outbox.redaction");
  }
}

function Pending(props: { item: OutboxItem; onRetry: () => void; onDiscard: () => void }): JSX.Element {
  const o = props.item;
  const failed = o.status === "failed";
  return (
    <article class={`msg own pending${failed ? " failed" : ""}`} data-testid="outbox-item" data-status={o.status}>
      <div class="msg-bubble">
        <p class="msg-text">{outboxText(o)}</p>
      </div>
      <div class="pending-state" role={failed ? "alert" : "status"}>
        {failed ? (
          <>
            <IconAlert />
            <span>{t("outbox.failed", { reason: errorText(o.error ?? "internal") })}</span>
            <button type="button" class="link-button" onClick={props.onRetry} data-testid="outbox-retry">
              {t("outbox.retry")}
            </button>
            <button type="button" class="link-button" onClick={props.onDiscard} data-testid="outbox-discard">
              {t("outbox.discard")}
            </button>
          </>
        ) : (
          <span class="muted small">{t("outbox.sending")}</span>
        )}
      </div>
    </article>
  );
}

export function Timeline(props: {
  data: TimelineData;
  self: string;
  actions: MessageActions;
  onMore: () => void;
  onRetry: (localId: string) => void;
  onDiscard: (localId: string) => void;
}): JSX.Element {
  const { data, self } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const lastCount = useRef(0);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const count = data.entries.length + data.outbox.length;
    if (atBottom.current || count < lastCount.current) el.scrollTop = el.scrollHeight;
    lastCount.current = count;
  });

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    // Images load after layout: keep the view pinned to the newest line while they do.
    const ro = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    if (el.firstElementChild) ro.observe(el.firstElementChild);
    return () => ro.disconnect();
  }, []);

  const rows: JSX.Element[] = [];
  let prev: Entry | null = null;
  for (const e of data.entries) {
    if (!prev || dayKey(prev.at) !== dayKey(e.at)) {
      rows.push(
        <div class="day-separator" role="separator" key={`day-${e.seq}`}>
          <span>{formatDay(e.at)}</span>
        </div>,
      );
    }
    const isMsg = e.item.kind === "text" || e.item.kind === "file";
    const continued = !!prev && isMsg && (prev.item.kind === "text" || prev.item.kind === "file") && prev.sender === e.sender && e.at - prev.at < GROUP_SECS && dayKey(prev.at) === dayKey(e.at);
    rows.push(<MessageLine key={e.seq} entry={e} continued={continued} self={self} quotes={data.quotes} actions={props.actions} readOnly={data.removed} />);
    prev = e;
  }

  return (
    <div
      class="timeline"
      ref={scroller}
      onScroll={(ev) => {
        const el = ev.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }}
      tabIndex={0}
      aria-label={t("room.history")}
    >
      <div class="timeline-inner" role="log" aria-live="polite" aria-relevant="additions" data-testid="timeline">
        {data.more && (
          <div class="load-more">
            <button type="button" class="button" onClick={props.onMore} data-testid="load-more">
              {t("room.load_more")}
            </button>
          </div>
        )}
        {!data.more && (
          <p class="timeline-start muted">
            {t("room.start")}
          </p>
        )}
        {rows}
        {data.outbox.map((o) => (
          <Pending key={o.localId} item={o} onRetry={() => props.onRetry(o.localId)} onDiscard={() => props.onDiscard(o.localId)} />
        ))}
      </div>
    </div>
  );
}
