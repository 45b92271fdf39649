/** Settings: language, this user's devices (revoke), sign out here or everywhere, about. */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText, formatDate, t } from "../i18n";
import { CallError } from "../crypto/rpc";
import type { DeviceView } from "../crypto/types";
import { store, useStore } from "../app/store";
import { ConfirmDialog } from "./Dialog";
import { IconBack, IconLock, IconShield } from "./icons";
import { ta } from "../admin/strings-accounts";
import { LangSwitch } from "./LangSwitch";
import { LinkDeviceCard } from "./Link";

/** A device key as groups of four hex digits, for comparing by eye. */
function keyGroups(hex: string): string {
  return (hex.match(/.{1,4}/g) ?? []).join(" ");
}

export function Settings(): JSX.Element {
  const session = useStore((s) => s.session);
  const [devices, setDevices] = useState<DeviceView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<null | "logout" | "logoutAll" | { revoke: DeviceView }>(null);
  const [version, setVersion] = useState("");

  const load = () =>
    store.crypto.call("devices").then(
      (d) => {
        setDevices(d);
        setError(null);
      },
      (err) => setError(err instanceof CallError ? err.code : "internal"),
    );
  useEffect(() => {
    void load();
    void store.crypto.call("version").then(setVersion, () => undefined);
    document.title = `${t("settings.title")} – Ting`;
  }, []);

  const fail = (err: unknown) => store.toast(errorText(err instanceof CallError ? err.code : "internal"), "error");
  const active = (devices?.filter((d) => !d.revokedAt) ?? []).sort((a, b) => Number(b.current) - Number(a.current));
  const revoked = devices?.filter((d) => d.revokedAt) ?? [];

  return (
    <section class="settings" aria-labelledby="settings-title" data-testid="settings">
      <header class="room-head">
        <a class="icon-button back-button" href="#/" aria-label={t("room.back")}>
          <IconBack />
        </a>
        <h1 id="settings-title" class="room-title">
          {t("settings.title")}
        </h1>
      </header>
      <div class="settings-body">
        <section class="card" aria-labelledby="s-account">
          <h2 id="s-account">{t("settings.account")}</h2>
          <p>{t("settings.signed_in_as", { name: session?.username ?? "" })}</p>
          <div class="button-row">
            <button type="button" class="button" onClick={() => setConfirm("logout")} data-testid="logout">
              {t("settings.logout")}
            </button>
            <button type="button" class="button button-danger" onClick={() => setConfirm("logoutAll")} data-testid="logout-all">
              {t("settings.logout_all")}
            </button>
          </div>
        </section>

        <LinkDeviceCard />

        {session?.isAdmin && (
          <section class="card" aria-labelledby="s-admin" data-testid="admin-entry">
            <h2 id="s-admin">{ta("admin.entry")}</h2>
            <p class="muted">{ta("admin.entry_text")}</p>
            <a class="button" href="#/admin/accounts" data-testid="open-admin">
              <IconShield /> {ta("admin.open")}
            </a>
          </section>
        )}

        <section class="card" aria-labelledby="s-lang">
          <h2 id="s-lang">{t("settings.language")}</h2>
          <LangSwitch testid="settings-lang" />
        </section>

        <section class="card" aria-labelledby="s-devices">
          <h2 id="s-devices">{t("settings.devices")}</h2>
          <p class="muted">{t("settings.devices_intro")}</p>
          {error && (
            <p class="form-error" role="alert">
              {errorText(error)}
            </p>
          )}
          {!devices && !error && <p class="muted">{t("common.loading")}</p>}
          <ul class="device-list" data-testid="device-list">
            {active.map((d) => (
              <li key={d.id} class="device" data-testid="device" data-current={d.current}>
                <div>
                  <strong>{d.name}</strong>
                  {d.current && <span class="tag">{t("settings.this_device")}</span>}
                  {!d.certified && (
                    <span class="tag tag-warning" data-testid="device-unlinked">
                      {t("settings.not_linked")}
                    </span>
                  )}
                  <div class="muted small">{t("settings.added", { date: formatDate(d.createdAt) })}</div>
                  <div class="muted small mono" title={t("settings.device_key")}>
                    {keyGroups(d.key.slice(0, 32))}…
                  </div>
                </div>
                {!d.current && (
                  <button type="button" class="button button-small button-danger" onClick={() => setConfirm({ revoke: d })} data-testid="revoke-device">
                    {t("settings.revoke")}
                  </button>
                )}
              </li>
            ))}
          </ul>
          {revoked.length > 0 && (
            <details class="revoked">
              <summary>{t("settings.revoked_devices", { n: revoked.length })}</summary>
              <ul class="device-list">
                {revoked.map((d) => (
                  <li key={d.id} class="device revoked">
                    <div>
                      <strong>{d.name}</strong>
                      <div class="muted small">{t("settings.revoked_at", { date: formatDate(d.revokedAt ?? 0) })}</div>
                    </div>
                  </li>
                ))}
              </ul>
            </details>
          )}
        </section>

        <section class="card" aria-labelledby="s-about">
          <h2 id="s-about">{t("settings.about")}</h2>
          <p class="about-line">
            <IconLock /> {t("settings.about_text")}
          </p>
          {version && <p class="muted small">{t("settings.version", { v: version })}</p>}
        </section>
      </div>

      {confirm === "logout" && (
        <ConfirmDialog title={t("settings.logout")} text={t("settings.logout_text")} confirm={t("settings.logout")} danger onClose={() => setConfirm(null)} onConfirm={() => store.logout(false).catch(fail)} />
      )}
      {confirm === "logoutAll" && (
        <ConfirmDialog title={t("settings.logout_all")} text={t("settings.logout_all_text")} confirm={t("settings.logout_all")} danger onClose={() => setConfirm(null)} onConfirm={() => store.logout(true).catch(fail)} />
      )}
      {confirm && typeof confirm === "object" && (
        <ConfirmDialog
          title={t("settings.revoke_title", { name: confirm.revoke.name })}
          text={t("settings.revoke_text")}
          confirm={t("settings.revoke")}
          danger
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            try {
              await store.crypto.call("revokeDevice", confirm.revoke.id);
              await load();
            } catch (err) {
              fail(err);
            }
          }}
        />
      )}
    </section>
  );
}
