/** A line diff (longest common subsequence) of two policy files, and its rendering. */
import type { JSX } from "preact";
import { to } from "./strings-ops";

export interface DiffLine {
  op: " " | "+" | "-";
  text: string;
  /** Line number in the old text (kept and removed lines). */
  a: number | null;
  /** Line number in the new text (kept and added lines). */
  b: number | null;
}

function lines(text: string): string[] {
  const l = text.replace(/\r\n/g, "\n").split("\n");
  if (l.length && l[l.length - 1] === "") l.pop();
  return l;
}

/** Every line of `before` and `after`, marked kept, removed or added. */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = lines(before);
  const b = lines(after);
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: length of the LCS of a[i..] and b[j..] (policy files are small).
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: " ", text: a[i], a: i + 1, b: j + 1 });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push({ op: "-", text: a[i], a: i + 1, b: null });
      i++;
    } else {
      out.push({ op: "+", text: b[j], a: null, b: j + 1 });
      j++;
    }
  }
  return out;
}

/** Changed lines with up to `context` unchanged lines around them; gaps become null. */
export function hunks(diff: DiffLine[], context = 2): (DiffLine | null)[] {
  const keep = new Array<boolean>(diff.length).fill(false);
  diff.forEach((d, k) => {
    if (d.op === " ") return;
    for (let x = Math.max(0, k - context); x <= Math.min(diff.length - 1, k + context); x++) keep[x] = true;
  });
  const out: (DiffLine | null)[] = [];
  diff.forEach((d, k) => {
    if (keep[k]) out.push(d);
    else if (out.length && out[out.length - 1] !== null) out.push(null);
  });
  if (out.length && out[out.length - 1] === null) out.pop();
  return out;
}

/** The diff as +/− lines with line numbers; says so when nothing differs. */
export function DiffView(props: { before: string; after: string; label: string; testid?: string }): JSX.Element {
  const diff = diffLines(props.before, props.after);
  const shown = hunks(diff);
  if (!diff.some((d) => d.op !== " ")) {
    return (
      <p class="muted small" data-testid={props.testid}>
        {to("policy.diff_none")}
      </p>
    );
  }
  return (
    <figure class="ops-diff" data-testid={props.testid}>
      <figcaption class="visually-hidden">{props.label}</figcaption>
      <p class="visually-hidden">{to("policy.diff_legend")}</p>
      <pre tabIndex={0} aria-label={props.label}>
        {shown.map((d, k) =>
          d === null ? (
            <span key={k} class="diff-gap" aria-hidden="true">
              {"⋯\n"}
            </span>
          ) : (
            <span key={k} class={d.op === "+" ? "diff-add" : d.op === "-" ? "diff-del" : "diff-same"} data-op={d.op}>
              <span class="diff-no" aria-hidden="true">
                {String(d.b ?? d.a ?? "").padStart(3, " ")}
              </span>
              {`${d.op === "-" ? "−" : d.op} ${d.text}\n`}
            </span>
          ),
        )}
      </pre>
    </figure>
  );
}
