/**
 * Administration: the compliance report (`ting compliance report`) rendered from the same data
 * the server's Markdown and HTML files are made of, and offered as those files.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { formatDate } from "../i18n";
import type { AdminApi, ComplianceReport, ReportSection } from "./api";
import { LoadError, OpsPage, WithCode, download, reason, useLangRefresh } from "./ops-common";
import { to } from "./strings-ops";

function slug(heading: string, k: number): string {
  return `report-${k}-${heading.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
}

function Section(props: { s: ReportSection; id: string }): JSX.Element {
  const { s } = props;
  return (
    <section class="report-section" aria-labelledby={props.id} data-testid="compliance-section">
      <h3 id={props.id} tabIndex={-1}>
        {s.heading}
      </h3>
      {s.paragraphs.map((p, k) => {
        // A paragraph "```\n…```" is a block of code (the policy file), as in the server's files.
        const block = p.startsWith("```\n") && p.endsWith("```") ? p.slice(4, -3) : null;
        return block !== null ? (
          <pre key={k} class="report-code" tabIndex={0}>
            <code>{block}</code>
          </pre>
        ) : (
          <p key={k}>
            <WithCode text={p} />
          </p>
        );
      })}
      {s.table ? (
        <div class="ops-table-wrap" tabIndex={0} aria-labelledby={props.id}>
          <table class="ops-table report-table">
            <thead>
              <tr>
                {s.table.columns.map((c, k) => (
                  <th key={k} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {s.table.rows.map((row, k) => (
                <tr key={k}>
                  {row.map((cell, j) => (
                    <td key={j} data-label={s.table?.columns[j] ?? ""}>
                      <WithCode text={cell} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

export function CompliancePage(props: { api: AdminApi }): JSX.Element {
  const { api } = props;
  useLangRefresh();
  const [report, setReport] = useState<ComplianceReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);

  const load = async () => {
    setBusy(true);
    try {
      setReport(await api.compliance());
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const file = async (format: "markdown" | "html") => {
    setFileError(null);
    try {
      download(await api.complianceFile(format), format === "markdown" ? "ting-compliance.md" : "ting-compliance.html");
    } catch (err) {
      setFileError(to("ops.download_failed", { reason: reason(err) }));
    }
  };

  const ids = report?.sections.map((s, k) => slug(s.heading, k)) ?? [];

  return (
    <OpsPage
      id="compliance"
      title={to("compliance.title")}
      intro={<WithCode text={to("compliance.intro")} />}
      actions={
        <>
          <button type="button" class="button" onClick={() => void file("markdown")} data-testid="compliance-markdown">
            {to("compliance.markdown")}
          </button>
          <button type="button" class="button" onClick={() => void file("html")} data-testid="compliance-html">
            {to("compliance.html")}
          </button>
        </>
      }
    >
      {fileError ? (
        <p class="ops-bad" role="alert">
          {fileError}
        </p>
      ) : null}
      {error && !report ? (
        <LoadError error={error} retry={() => void load()} />
      ) : !report ? (
        <p class="muted">{to("ops.loading")}</p>
      ) : (
        <article class="card ops-card report" aria-labelledby="report-title" data-testid="compliance-report">
          <header class="report-head">
            <h3 id="report-title" class="report-title">
              {report.title}
            </h3>
            <p class="muted small">{to("compliance.generated", { at: formatDate(report.generated_at) })}</p>
            <button type="button" class="button button-small" onClick={() => void load()} disabled={busy}>
              {to("compliance.refresh")}
            </button>
          </header>
          {report.sections.length > 2 ? (
            <nav class="report-toc" aria-label={to("compliance.contents")}>
              <ol>
                {report.sections.map((s, k) => (
                  <li key={k}>
                    <a href={`#${ids[k]}`} onClick={(e) => { e.preventDefault(); document.getElementById(ids[k])?.focus(); }}>
                      {s.heading}
                    </a>
                  </li>
                ))}
              </ol>
            </nav>
          ) : null}
          {report.sections.map((s, k) => (
            <Section key={k} s={s} id={ids[k]} />
          ))}
        </article>
      )}
    </OpsPage>
  );
}
