/**
 * Administration: the server's health. Version and web bundle, storage, connections, meetings
 * and media ports, refreshed every ten seconds while shown; nothing about content, and the page
 * says plainly what the server cannot see.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { locale } from "../i18n";
import type { AdminApi, AdminHealth } from "./api";
import { LoadError, OpsPage, uptime, useLangRefresh } from "./ops-common";
import { to } from "./strings-ops";

const REFRESH_MS = 10_000;

function Figure(props: { label: string; value: string | number; testid: string; mono?: boolean; children?: JSX.Element | null }): JSX.Element {
  const value = typeof props.value === "number" ? new Intl.NumberFormat(locale()).format(props.value) : props.value;
  return (
    <div class="health-figure">
      <dt>{props.label}</dt>
      <dd data-testid={props.testid} class={props.mono ? "mono" : undefined}>
        {value}
        {props.children}
      </dd>
    </div>
  );
}

export function HealthPage(props: { api: AdminApi }): JSX.Element {
  const { api } = props;
  useLangRefresh();
  const [health, setHealth] = useState<AdminHealth | null>(null);
  const [at, setAt] = useState(0);
  const [error, setError] = useState<unknown>(null);

  const load = async () => {
    try {
      setHealth(await api.health());
      setAt(Math.floor(Date.now() / 1000));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void load();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const h = health;
  return (
    <OpsPage
      id="health"
      title={to("health.title")}
      intro={to("health.intro")}
      actions={
        <button type="button" class="button button-small" onClick={() => void load()} data-testid="health-refresh">
          {to("health.refresh")}
        </button>
      }
    >
      {at ? (
        <p class="muted small" data-testid="health-updated">
          {to("health.updated", { at: new Intl.DateTimeFormat(locale(), { timeStyle: "medium" }).format(at * 1000) })}
        </p>
      ) : null}
      {error ? <LoadError error={error} retry={() => void load()} /> : null}
      {!h ? (
        error ? null : <p class="muted">{to("ops.loading")}</p>
      ) : (
        <div class="health-grid">
          <section class="card ops-card" aria-labelledby="health-server">
            <h3 id="health-server">{to("health.server")}</h3>
            <dl class="health-figures">
              <Figure label={to("health.version")} value={h.version} testid="health-version" />
              <Figure label={to("health.bundle")} value={h.web_bundle_hash} testid="health-bundle" mono />
              <Figure label={to("health.store")} value={h.store_backend} testid="health-store">
                <span class={h.store_ok ? "ops-good health-state" : "ops-bad health-state"} data-testid="health-store-ok" data-ok={String(h.store_ok)}>
                  {h.store_ok ? `✓ ${to("health.store_ok")}` : `✗ ${to("health.store_bad")}`}
                </span>
              </Figure>
              <Figure label={to("health.uptime")} value={uptime(h.uptime_secs)} testid="health-uptime" />
            </dl>
          </section>

          <section class="card ops-card" aria-labelledby="health-activity">
            <h3 id="health-activity">{to("health.activity")}</h3>
            <dl class="health-figures">
              <Figure label={to("health.users")} value={h.users} testid="health-users" />
              <Figure label={to("health.connections")} value={h.connections} testid="health-connections" />
              <Figure label={to("health.devices")} value={h.connected_devices} testid="health-devices" />
              <Figure label={to("health.meetings")} value={h.meetings} testid="health-meetings" />
              <Figure label={to("health.participants")} value={h.meeting_participants} testid="health-participants" />
            </dl>
          </section>

          <section class="card ops-card" aria-labelledby="health-media">
            <h3 id="health-media">{to("health.media")}</h3>
            {h.media_ports.length === 0 ? (
              <p class="muted">{to("health.media_none")}</p>
            ) : (
              <ul class="health-ports" data-testid="health-ports">
                {h.media_ports.map((p, k) => (
                  <li key={k} data-reachable={String(p.reachable)}>
                    <span class="mono">
                      {p.protocol.toUpperCase()} {p.address}
                    </span>{" "}
                    <span class={p.reachable ? "ops-good health-state" : "ops-bad health-state"}>
                      {p.reachable ? `✓ ${to("health.reachable")}` : `✗ ${to("health.unreachable")}`}
                    </span>
                    {p.problem ? <span class="muted small health-problem">{p.problem}</span> : null}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      )}

      <section class="card ops-card health-blind" aria-labelledby="health-cannot" data-testid="health-cannot-see">
        <h3 id="health-cannot">{to("health.cannot_title")}</h3>
        <p>{to("health.cannot_intro")}</p>
        <ul>
          <li>{to("health.cannot_messages")}</li>
          <li>{to("health.cannot_files")}</li>
          <li>{to("health.cannot_meetings")}</li>
          <li>{to("health.cannot_rooms")}</li>
        </ul>
        <h4>{to("health.can_title")}</h4>
        <p class="muted">{to("health.can_text")}</p>
      </section>
    </OpsPage>
  );
}
