/** The policy editor: a plain textarea with a line-number gutter that marks problem lines. */
import type { JSX, Ref } from "preact";
import { useImperativeHandle, useRef } from "preact/hooks";
import { formatBytes } from "../i18n";
import type { PolicyEffect } from "./api";
import { duration } from "./ops-common";
import { hasKey, to } from "./strings-ops";

export interface EditorHandle {
  /** Focuses the editor with line `line` (1-based) selected. */
  goTo(line: number): void;
}

export function PolicyEditor(props: {
  value: string;
  onInput: (text: string) => void;
  badLines: Set<number>;
  describedBy: string;
  handle: Ref<EditorHandle>;
}): JSX.Element {
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const count = Math.max(1, props.value.split("\n").length);

  useImperativeHandle(props.handle, () => ({
    goTo(line: number) {
      const el = area.current;
      if (!el) return;
      const all = el.value.split("\n");
      const n = Math.min(Math.max(1, line), all.length);
      let start = 0;
      for (let k = 0; k < n - 1; k++) start += all[k].length + 1;
      el.focus();
      el.setSelectionRange(start, start + all[n - 1].length);
      const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 20;
      el.scrollTop = Math.max(0, (n - 3) * lineHeight);
    },
  }));

  const numbers: JSX.Element[] = [];
  for (let k = 1; k <= count; k++) {
    const bad = props.badLines.has(k);
    numbers.push(
      <span key={k} class={bad ? "gutter-line bad" : "gutter-line"} data-line={k} data-bad={bad ? "true" : undefined}>
        {bad ? "⚠ " : ""}
        {k}
      </span>,
    );
  }

  return (
    <div class="policy-editor">
      <div class="policy-gutter" ref={gutter} aria-hidden="true" data-testid="policy-gutter">
        {numbers}
      </div>
      <textarea
        ref={area}
        id="policy-text"
        class="policy-text"
        value={props.value}
        rows={Math.min(Math.max(count + 1, 10), 22)}
        wrap="off"
        spellcheck={false}
        autoComplete="off"
        autoCapitalize="off"
        aria-describedby={props.describedBy}
        aria-invalid={props.badLines.size > 0 ? "true" : undefined}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
        data-testid="policy-editor"
      />
    </div>
  );
}

function plain(v: unknown, setting: string): string {
  if (v === null || v === undefined) {
    if (setting.endsWith("_default_retention_secs")) return to("effect.forever");
    if (setting.endsWith("_max_retention_secs")) return to("effect.no_limit");
    return to("effect.none");
  }
  if (setting.endsWith("_retention_secs") && typeof v === "number") return duration(v);
  if (setting === "max_file_bytes" && typeof v === "number") return v === 0 ? to("effect.none") : formatBytes(v);
  if (setting === "allowed_ciphersuites" && Array.isArray(v)) {
    return v.length ? v.map((s) => (typeof s === "number" ? `0x${s.toString(16).padStart(4, "0")}` : String(s))).join(", ") : to("effect.none");
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** What saving changes for users, as a sentence ("Files can no longer be shared."). */
export function effectText(e: PolicyEffect): string {
  if (typeof e.after === "boolean") {
    const key = `effect.${e.setting}.${e.after}`;
    if (hasKey(key)) return to(key);
  }
  const key = `effect.${e.setting}`;
  const params = { setting: e.setting, before: plain(e.before, e.setting), after: plain(e.after, e.setting) };
  return hasKey(key) ? to(key, params) : to("effect.generic", params);
}
