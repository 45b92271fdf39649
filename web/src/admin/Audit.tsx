/**
 * Administration: the audit log. Records filtered by event, actor and time (newest first, older
 * pages on request), the hash chain verified live with its head shown, and the filtered records
 * exported as JSON Lines.
 */
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { formatDate, locale } from "../i18n";
import type { AdminApi, AuditFilter, AuditRecordView, AuditVerification } from "./api";
import { LoadError, OpsPage, download, reason, useLangRefresh } from "./ops-common";
import { to } from "./strings-ops";

const PAGE = 50;
const VERIFY_EVERY_MS = 30_000;

/** A `datetime-local` value as Unix seconds (local time), or undefined. */
function toUnix(v: string): number | undefined {
  if (!v) return undefined;
  const ms = new Date(v).getTime();
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

function who(name: string | null, id: string | null): string {
  return name ?? (id ? id.slice(0, 8) : to("ops.nobody"));
}

/** Event details as "key: value, …" (nested values as JSON). */
function details(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v !== "object" || Array.isArray(v)) return JSON.stringify(v);
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k}: ${typeof x === "string" ? x : JSON.stringify(x)}`)
    .join(", ");
}

function Verification(props: { api: AdminApi; tick: number }): JSX.Element {
  const [v, setV] = useState<AuditVerification | null>(null);
  const [at, setAt] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setBusy(true);
    try {
      setV(await props.api.verifyAudit());
      setAt(Math.floor(Date.now() / 1000));
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void run();
    const timer = setInterval(() => void run(), VERIFY_EVERY_MS);
    return () => clearInterval(timer);
  }, [props.tick]);

  return (
    <section class={`card ops-card audit-chain ${v ? (v.ok ? "ok" : "broken") : ""}`} aria-labelledby="audit-chain-title" data-testid="audit-chain" data-ok={v ? String(v.ok) : undefined}>
      <h3 id="audit-chain-title" class="visually-hidden">
        {to("audit.verify")}
      </h3>
      <div class="audit-chain-top">
        <div role="status" aria-live="polite">
          {error ? (
            <LoadError error={error} />
          ) : !v ? (
            <p>{to("audit.verifying")}</p>
          ) : v.ok ? (
            <p class="ops-good audit-verdict" data-testid="audit-verified">
              <span aria-hidden="true">✓ </span>
              {to("audit.verified", { n: v.checked })}
            </p>
          ) : (
            <p class="ops-bad audit-verdict" data-testid="audit-broken">
              <span aria-hidden="true">✗ </span>
              {to("audit.broken", { problem: v.problem ?? "" })}
            </p>
          )}
        </div>
        <div class="button-row">
          <button type="button" class="button button-small" onClick={() => void run()} disabled={busy} data-testid="audit-verify">
            {busy ? to("audit.verifying") : to("audit.verify")}
          </button>
          {at ? <span class="muted small audit-checked">{to("audit.checked_at", { at: new Intl.DateTimeFormat(locale(), { timeStyle: "medium" }).format(at * 1000) })}</span> : null}
        </div>
      </div>
      {v ? (
        <>
          <p class="audit-head">
            <span class="muted small">{to("audit.head", { seq: v.head_seq })}</span>
            <code class="hash" data-testid="audit-head-hash">
              {v.head_hash}
            </code>
          </p>
          <p class="muted small">{to("audit.head_hint")}</p>
          {v.first_seq !== null && v.first_seq > 1 ? <p class="muted small">{to("audit.pruned", { seq: v.first_seq })}</p> : null}
        </>
      ) : null}
    </section>
  );
}

function Cell(props: { label: string; class?: string; children: ComponentChildren }): JSX.Element {
  return (
    <td data-label={props.label} class={props.class}>
      <span class="cell">{props.children}</span>
    </td>
  );
}

function Row(props: { r: AuditRecordView }): JSX.Element {
  const { r } = props;
  const d = details(r.details);
  return (
    <tr data-testid="audit-record" data-event={r.event} data-seq={r.seq}>
      <Cell label={to("audit.col_time")}>
        <span class="nowrap">{formatDate(r.at)}</span> <span class="muted small">#{r.seq}</span>
      </Cell>
      <Cell label={to("audit.col_event")}>
        <code>{r.event}</code>
      </Cell>
      <Cell label={to("audit.col_actor")}>
        {who(r.actor_name, r.actor)}
        {r.actor_device ? <span class="muted small"> ({to("audit.device", { id: r.actor_device.slice(0, 8) })})</span> : null}
      </Cell>
      <Cell label={to("audit.col_target")}>{r.target || r.target_name ? who(r.target_name, r.target) : to("ops.nobody")}</Cell>
      <Cell label={to("audit.col_client")}>{r.client ?? to("ops.nobody")}</Cell>
      <Cell label={to("audit.col_details")} class="audit-details">
        {d ? <code>{d}</code> : to("ops.nobody")}
      </Cell>
      <Cell label={to("audit.col_hash")}>
        <code class="hash" title={r.hash}>
          {r.hash.slice(0, 12)}…
        </code>
      </Cell>
    </tr>
  );
}

export function AuditPage(props: { api: AdminApi }): JSX.Element {
  const { api } = props;
  useLangRefresh();
  const [event, setEvent] = useState("");
  const [actor, setActor] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [filter, setFilter] = useState<AuditFilter>({});
  const [events, setEvents] = useState<string[]>([]);
  const [records, setRecords] = useState<AuditRecordView[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);

  const fetchPage = async (f: AuditFilter, before: number | null) => {
    const mine = ++seq.current;
    setBusy(true);
    try {
      const page = await api.audit(f, before, PAGE);
      if (mine !== seq.current) return;
      setEvents(page.events);
      setRecords((old) => (before === null || !old ? page.records : [...old, ...page.records]));
      setNext(page.next_before);
      setError(null);
    } catch (err) {
      if (mine === seq.current) setError(err);
    } finally {
      if (mine === seq.current) setBusy(false);
    }
  };

  useEffect(() => {
    void fetchPage(filter, null);
  }, [filter]);

  const apply = (e: Event) => {
    e.preventDefault();
    setFilter({ event: event || undefined, actor: actor.trim() || undefined, since: toUnix(since), until: toUnix(until) });
    setTick((n) => n + 1);
  };
  const clear = () => {
    setEvent("");
    setActor("");
    setSince("");
    setUntil("");
    setFilter({});
  };
  const exportJsonl = async () => {
    setExportError(null);
    try {
      download(await api.exportAudit(filter), "ting-audit.jsonl");
    } catch (err) {
      setExportError(to("ops.download_failed", { reason: reason(err) }));
    }
  };

  return (
    <OpsPage
      id="audit"
      title={to("audit.title")}
      intro={to("audit.intro")}
      actions={
        <button type="button" class="button" onClick={() => void exportJsonl()} data-testid="audit-export">
          {to("audit.export")}
        </button>
      }
    >
      {exportError ? (
        <p class="ops-bad" role="alert">
          {exportError}
        </p>
      ) : null}
      <Verification api={api} tick={tick} />

      <form class="card ops-card audit-filter" onSubmit={apply} aria-labelledby="audit-filter-title" data-testid="audit-filter">
        <h3 id="audit-filter-title" class="visually-hidden">
          {to("audit.filter")}
        </h3>
        <div class="audit-fields">
          <label class="field">
            <span>{to("audit.event")}</span>
            <select class="input" value={event} onChange={(e) => setEvent(e.currentTarget.value)} data-testid="audit-event">
              <option value="">{to("audit.any_event")}</option>
              {events.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>{to("audit.actor")}</span>
            <input class="input" type="text" value={actor} placeholder={to("audit.actor_hint")} onInput={(e) => setActor(e.currentTarget.value)} autoComplete="off" autoCapitalize="off" spellcheck={false} data-testid="audit-actor" />
          </label>
          <label class="field">
            <span>{to("audit.since")}</span>
            <input class="input" type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} data-testid="audit-since" />
          </label>
          <label class="field">
            <span>{to("audit.until")}</span>
            <input class="input" type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} data-testid="audit-until" />
          </label>
          <div class="button-row audit-buttons">
            <button type="submit" class="button button-primary" data-testid="audit-apply">
              {to("audit.apply")}
            </button>
            <button type="button" class="button button-quiet" onClick={clear}>
              {to("audit.clear")}
            </button>
          </div>
        </div>
        <p class="muted small">{to("audit.export_hint")}</p>
      </form>

      <section aria-labelledby="audit-records-title" class="audit-records" aria-busy={busy}>
        <h3 id="audit-records-title">{to("audit.records")}</h3>
        {error ? (
          <LoadError error={error} retry={() => void fetchPage(filter, null)} />
        ) : records === null ? (
          <p class="muted">{to("ops.loading")}</p>
        ) : records.length === 0 ? (
          <p class="muted" data-testid="audit-empty">
            {to("audit.none")}
          </p>
        ) : (
          <>
            <p class="muted small" role="status">
              {records.length === 1 ? to("audit.showing_one") : to("audit.showing", { n: records.length })}
            </p>
            <div class="ops-table-wrap">
              <table class="ops-table audit-table" data-testid="audit-table">
                <thead>
                  <tr>
                    <th scope="col">{to("audit.col_time")}</th>
                    <th scope="col">{to("audit.col_event")}</th>
                    <th scope="col">{to("audit.col_actor")}</th>
                    <th scope="col">{to("audit.col_target")}</th>
                    <th scope="col">{to("audit.col_client")}</th>
                    <th scope="col">{to("audit.col_details")}</th>
                    <th scope="col">{to("audit.col_hash")}</th>
                  </tr>
                </thead>
                <tbody>
                  {records.map((r) => (
                    <Row key={r.seq} r={r} />
                  ))}
                </tbody>
              </table>
            </div>
            {next !== null ? (
              <button type="button" class="button" onClick={() => void fetchPage(filter, next)} disabled={busy} data-testid="audit-more">
                {to("audit.more")}
              </button>
            ) : null}
          </>
        )}
      </section>
    </OpsPage>
  );
}
