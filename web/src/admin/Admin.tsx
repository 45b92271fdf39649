/**
 * The administration area (`#/admin/<section>`): a heading, the sections' navigation and the
 * open section. Shown to administrators only; the server refuses everyone else on every
 * `/api/v1/admin` route anyway (`admin_only`).
 */
import type { JSX } from "preact";
import { useEffect, useMemo } from "preact/hooks";
import "../styles/admin.css";
import { ADMIN_SECTIONS, href, type AdminSection } from "../app/router";
import { store, useStore } from "../app/store";
import { IconBack, IconShield } from "../ui/icons";
import { AdminApi } from "./api";
import { Accounts } from "./Accounts";
import { AuditPage } from "./Audit";
import { CompliancePage } from "./Compliance";
import { HealthPage } from "./Health";
import { PolicyPage } from "./Policy";
import { ta, type AdminKey } from "./strings-accounts";

const LABEL: Record<AdminSection, AdminKey> = {
  accounts: "admin.accounts",
  policy: "admin.policy",
  audit: "admin.audit",
  compliance: "admin.compliance",
  health: "admin.health",
};

export function Admin(props: { section: AdminSection }): JSX.Element {
  const session = useStore((s) => s.session);
  const api = useMemo(() => new AdminApi(() => store.crypto.call("wsToken")), []);
  useEffect(() => {
    document.title = `${ta(LABEL[props.section])} – ${ta("admin.title")} – Ting`;
  }, [props.section]);

  const head = (
    <header class="room-head">
      <a class="icon-button back-button admin-back" href="#/settings" aria-label={ta("admin.back")} title={ta("admin.back")}>
        <IconBack />
      </a>
      <h1 id="admin-title" class="room-title">
        <IconShield /> {ta("admin.title")}
      </h1>
    </header>
  );

  if (!session?.isAdmin) {
    return (
      <section class="admin" aria-labelledby="admin-title" data-testid="admin-refused">
        {head}
        <div class="admin-body">
          <p class="notice notice-warning" role="alert">
            {ta("admin.not_admin")}
          </p>
        </div>
      </section>
    );
  }

  const page = (() => {
    switch (props.section) {
      case "accounts":
        return <Accounts api={api} self={session.username} />;
      case "policy":
        return <PolicyPage api={api} />;
      case "audit":
        return <AuditPage api={api} />;
      case "compliance":
        return <CompliancePage api={api} />;
      case "health":
        return <HealthPage api={api} />;
    }
  })();

  return (
    <section class="admin" aria-labelledby="admin-title" data-testid="admin">
      {head}
      <nav class="admin-nav" aria-label={ta("admin.nav")} data-testid="admin-nav">
        <ul>
          {ADMIN_SECTIONS.map((s) => (
            <li key={s}>
              <a href={href({ name: "admin", section: s })} aria-current={s === props.section ? "page" : undefined} data-testid={`admin-nav-${s}`}>
                {ta(LABEL[s])}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="admin-body" data-section={props.section}>
        {page}
      </div>
    </section>
  );
}
