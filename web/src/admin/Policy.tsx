/**
 * Administration: the organisation policy. Shows the policy in effect, edits it in a plain
 * TOML editor that the server checks as one types (problems listed and marked at their line,
 * what saving would change said in sentences), saves only a valid document, and lists every
 * revision with its changes as a line diff.
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { formatDate } from "../i18n";
import { PolicyRefused, type AdminApi, type PolicyCheck, type PolicyDocument, type PolicyProblem, type PolicyRevision } from "./api";
import { LoadError, OpsPage, reason, useLangRefresh } from "./ops-common";
import { DiffView } from "./policy-diff";
import { PolicyEditor, effectText, type EditorHandle } from "./policy-editor";
import { to } from "./strings-ops";

type Check = { state: "idle" } | { state: "checking"; text: string } | { state: "done"; text: string; result: PolicyCheck };

const CHECK_DELAY_MS = 600;

export function PolicyPage(props: { api: AdminApi }): JSX.Element {
  const { api } = props;
  useLangRefresh();
  const [current, setCurrent] = useState<PolicyDocument | null>(null);
  const [revisions, setRevisions] = useState<PolicyRevision[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [text, setText] = useState("");
  const [check, setCheck] = useState<Check>({ state: "idle" });
  const [refused, setRefused] = useState<{ text: string; problems: PolicyProblem[] } | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<number | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [openRev, setOpenRev] = useState<number | null>(null);
  const editor = useRef<EditorHandle>(null);
  const seq = useRef(0);

  const load = async () => {
    setLoadError(null);
    try {
      const [doc, revs] = await Promise.all([api.policy(), api.policyRevisions()]);
      setCurrent(doc);
      setRevisions(revs.revisions);
      return doc;
    } catch (err) {
      setLoadError(err);
      return null;
    }
  };

  useEffect(() => {
    void load().then((doc) => doc && setText(doc.document));
  }, []);

  const dirty = current !== null && text !== current.document;

  const runCheck = async (doc: string): Promise<PolicyCheck | null> => {
    const mine = ++seq.current;
    setCheck({ state: "checking", text: doc });
    try {
      const result = await api.checkPolicy(doc);
      if (mine === seq.current) setCheck({ state: "done", text: doc, result });
      return result;
    } catch (err) {
      if (mine === seq.current) {
        setCheck({ state: "idle" });
        setActionError(reason(err));
      }
      return null;
    }
  };

  // Check a while after the last keystroke.
  useEffect(() => {
    if (!dirty) {
      seq.current++;
      setCheck({ state: "idle" });
      return;
    }
    const timer = setTimeout(() => void runCheck(text), CHECK_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text, current?.revision]);

  const onInput = (value: string) => {
    setText(value);
    setSaved(null);
    setActionError(null);
  };

  const save = async () => {
    if (!dirty || saving) return;
    setSaving(true);
    setActionError(null);
    setRefused(null);
    const doc = text;
    try {
      const result = await runCheck(doc);
      if (!result || !result.valid) return;
      const stored = await api.setPolicy(doc);
      setCurrent(stored);
      setText(stored.document);
      setSaved(stored.revision);
      setOpenRev(null);
      const revs = await api.policyRevisions().catch(() => null);
      if (revs) setRevisions(revs.revisions);
    } catch (err) {
      if (err instanceof PolicyRefused) setRefused({ text: doc, problems: [{ message: err.message, line: err.line }] });
      else setActionError(reason(err));
    } finally {
      setSaving(false);
    }
  };

  if (loadError && !current) {
    return (
      <OpsPage id="policy" title={to("policy.title")}>
        <LoadError error={loadError} retry={() => void load().then((doc) => doc && setText(doc.document))} />
      </OpsPage>
    );
  }
  if (!current) {
    return (
      <OpsPage id="policy" title={to("policy.title")}>
        <p class="muted">{to("ops.loading")}</p>
      </OpsPage>
    );
  }

  const result = check.state === "done" && check.text === text ? check.result : null;
  const problems: PolicyProblem[] = [
    ...(result && !result.valid ? result.problems : []),
    ...(refused && refused.text === text ? refused.problems : []),
  ];
  const invalid = problems.length > 0 || (result !== null && !result.valid);
  const badLines = new Set(problems.map((p) => p.line).filter((l): l is number => typeof l === "number"));
  const head = revisions?.find((r) => r.revision === current.revision);
  const by = head?.set_by;

  const diffLabel = current.revision === 0 ? to("policy.diff_defaults") : to("policy.diff_current", { revision: current.revision });
  let status: JSX.Element;
  if (!dirty) status = <p>{saved !== null ? to("policy.saved", { revision: saved }) : to("policy.unchanged")}</p>;
  else if (check.state === "checking" && check.text === text) status = <p>{to("policy.checking")}</p>;
  else if (invalid) status = <p class="ops-bad">{to("policy.invalid")}</p>;
  else if (result && result.effects.length === 0) status = <p class="ops-good">{to("policy.valid_no_effect")}</p>;
  else if (result) status = <p class="ops-good">{to("policy.valid")}</p>;
  else status = <p class="muted">{to("policy.unchecked")}</p>;

  return (
    <OpsPage id="policy" title={to("policy.title")} intro={to("policy.intro")}>
      <p class="ops-meta" data-testid="policy-current" data-revision={current.revision}>
        {current.revision === 0
          ? to("policy.defaults")
          : by
            ? to("policy.current_by", { revision: current.revision, at: formatDate(current.set_at), by })
            : to("policy.current", { revision: current.revision, at: formatDate(current.set_at) })}
      </p>

      <section class="card ops-card policy-work" aria-labelledby="policy-editor-label">
        <div class="policy-left">
          <h3 id="policy-editor-label">
            <label for="policy-text">{to("policy.editor")}</label>
          </h3>
          <p id="policy-editor-hint" class="muted small">
            {to("policy.editor_hint")}
          </p>
          <PolicyEditor value={text} onInput={onInput} badLines={badLines} describedBy="policy-editor-hint policy-status" handle={editor} />
        </div>
        <div class="policy-right">
          <div id="policy-status" class="policy-status" role="status" aria-live="polite" data-testid="policy-status" data-valid={result ? String(result.valid && !invalid) : undefined}>
            {status}
            {problems.length ? (
              <ul class="policy-problems" data-testid="policy-problems">
                {problems.map((p, k) => (
                  <li key={k} data-testid="policy-problem" data-line={p.line ?? undefined}>
                    {p.line !== null ? (
                      <button type="button" class="link-button" onClick={() => editor.current?.goTo(p.line as number)} aria-label={to("policy.problem_go", { line: p.line })}>
                        {to("policy.problem_line", { line: p.line })}
                      </button>
                    ) : null}
                    {p.line !== null ? ": " : ""}
                    <span class="policy-reason">{p.message}</span>
                  </li>
                ))}
              </ul>
            ) : null}
            {dirty && result && !invalid && result.effects.length ? (
              <ul class="policy-effects" data-testid="policy-effects">
                {result.effects.map((e) => (
                  <li key={e.setting} data-setting={e.setting}>
                    {effectText(e)}
                  </li>
                ))}
              </ul>
            ) : null}
            {actionError ? (
              <p class="ops-bad" role="alert">
                {actionError}
              </p>
            ) : null}
          </div>

          <div class="button-row">
            <button type="button" class="button button-primary" onClick={() => void save()} disabled={!dirty || saving || invalid || (check.state === "checking" && check.text === text)} data-testid="policy-save">
              {saving ? to("policy.saving") : to("policy.save")}
            </button>
            <button type="button" class="button" onClick={() => void runCheck(text)} disabled={!dirty || saving} data-testid="policy-check">
              {to("policy.check")}
            </button>
            <button type="button" class="button button-quiet" onClick={() => onInput(current.document)} disabled={!dirty || saving} data-testid="policy-revert">
              {to("policy.revert")}
            </button>
          </div>

          {dirty ? (
            <div class="policy-diff-current">
              <h4>{diffLabel}</h4>
              <DiffView before={current.document} after={text} label={diffLabel} testid="policy-diff" />
            </div>
          ) : null}
        </div>
      </section>

      <section class="card ops-card" aria-labelledby="policy-history-title">
        <h3 id="policy-history-title">{to("policy.history")}</h3>
        {!revisions?.length ? (
          <p class="muted">{to("policy.history_empty")}</p>
        ) : (
          <ol class="policy-revisions" data-testid="policy-revisions">
            {revisions.map((r, k) => {
              const older = revisions[k + 1];
              const open = openRev === r.revision;
              return (
                <li key={r.revision} class="policy-revision" data-testid="policy-revision" data-revision={r.revision}>
                  <div class="policy-revision-head">
                    <strong>{to("policy.rev", { revision: r.revision })}</strong>
                    {r.revision === current.revision ? <span class="ops-badge">{to("policy.rev_in_effect")}</span> : null}
                    <span class="muted small">
                      {r.set_by ? to("policy.rev_meta", { at: formatDate(r.set_at), by: r.set_by }) : to("policy.rev_meta_cli", { at: formatDate(r.set_at) })}
                    </span>
                  </div>
                  <div class="button-row">
                    <button type="button" class="button button-small" aria-expanded={open} onClick={() => setOpenRev(open ? null : r.revision)} data-testid="policy-revision-diff">
                      {open ? to("policy.rev_hide") : to("policy.rev_show", { revision: r.revision })}
                    </button>
                    <button type="button" class="button button-small button-quiet" onClick={() => { onInput(r.document); editor.current?.goTo(1); }}>
                      {to("policy.rev_load")}
                    </button>
                  </div>
                  {open ? (
                    <div class="policy-revision-diff">
                      <p class="small muted">{older ? to("policy.rev_against", { revision: older.revision }) : to("policy.rev_first")}</p>
                      <DiffView before={older?.document ?? ""} after={r.document} label={to("policy.rev_show", { revision: r.revision })} />
                    </div>
                  ) : null}
                </li>
              );
            })}
          </ol>
        )}
      </section>
    </OpsPage>
  );
}
