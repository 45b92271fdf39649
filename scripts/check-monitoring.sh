#!/usr/bin/env bash
# Checks the monitoring files under deploy/:
#   - deploy/prometheus/ting-alerts.yml passes `promtool check rules`,
#   - its unit tests deploy/prometheus/ting-alerts.test.yml pass `promtool test rules`,
#   - deploy/grafana/ting-dashboard.json is valid JSON and a plausible Grafana dashboard,
#   - every metric name, label name and login outcome / status class used by the rules, their
#     tests and the dashboard is one Ting exports. The names are read from the registrations in
#     crates/ting-server/src/metrics.rs (and the outcomes from the server's `metrics.login(..)`
#     calls), so renaming a metric there fails this check until the rules and dashboard follow.
# Installs Debian's `prometheus` package (for promtool) when promtool is missing.
#
# Usage: scripts/check-monitoring.sh   (root or sudo for the apt install)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    if [ ${#missing[@]} -gt 0 ]; then
        step "installing ${missing[*]}"
        SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

RULES=deploy/prometheus/ting-alerts.yml
TESTS=deploy/prometheus/ting-alerts.test.yml
DASHBOARD=deploy/grafana/ting-dashboard.json
METRICS_RS=crates/ting-server/src/metrics.rs

command -v promtool >/dev/null || apt_install prometheus
PY=python3
if ! "$PY" -c 'import yaml' 2>/dev/null; then
    apt_install python3-yaml
    PY=/usr/bin/python3
fi
promtool --version 2>&1 | head -n 1

step "promtool check rules $RULES"
promtool check rules "$RULES"

step "promtool test rules $TESTS"
promtool test rules "$TESTS"

step "dashboard JSON parses"
"$PY" -m json.tool "$DASHBOARD" >/dev/null
echo "ok: $DASHBOARD"

step "metric names used by the rules and the dashboard are exported by Ting"
"$PY" - "$METRICS_RS" "$RULES" "$TESTS" "$DASHBOARD" crates/ting-server/src <<'PYEOF'
import json
import pathlib
import re
import sys

import yaml

metrics_rs, rules_path, tests_path, dashboard_path, server_src = sys.argv[1:]
errors = []

# --- What Ting exports, from the registrations in metrics.rs -----------------------------------
src = open(metrics_rs, encoding="utf-8").read()
m = re.search(r'Registry::with_prefix\(\s*"([^"]*)"\s*\)', src)
prefix = m.group(1) + "_" if m else ""


def kind_of(type_expr):
    for kind in ("Histogram", "Counter", "Gauge"):
        if re.search(r"\b%s\b" % kind, type_expr):
            return kind
    return None


def label_struct_of(type_expr):
    fm = re.search(r"Family\s*(?:::)?\s*<\s*(\w+)\s*,", type_expr)
    return fm.group(1) if fm else None


def labels_of(struct):
    # Up to the closing brace at the start of a line: doc comments may contain braces.
    sm = re.search(r"struct\s+%s\s*\{(.*?)\n\}" % re.escape(struct), src, re.S)
    if not sm:
        return None
    return set(re.findall(r"pub\s+(\w+)\s*:", sm.group(1)))


exported = {}  # name -> set of label names
registrations = re.findall(
    r'\.register\(\s*"([a-zA-Z_:][\w:]*)"\s*,\s*"(?:[^"\\]|\\.)*"\s*,\s*([^;]*?)\)\s*;', src, re.S
)
if not registrations:
    errors.append(f"{metrics_rs}: no `registry.register(\"name\", \"help\", metric)` calls found")
for name, value in registrations:
    value = value.strip().rstrip(",").strip()
    type_expr = value
    if kind_of(type_expr) is None:
        vm = re.match(r"\s*(?:self\.)?(\w+)(?:\.clone\(\))?\s*$", value)
        if vm:
            var = vm.group(1)
            lm = re.search(r"let\s+%s\s*(?::[^=]+)?=\s*([^;]+);" % re.escape(var), src)
            fm = re.search(r"pub\s+%s\s*:\s*([^,\n]+)" % re.escape(var), src)
            type_expr = (lm.group(1) if lm else "") + " " + (fm.group(1) if fm else "")
    kind = kind_of(type_expr)
    if kind is None:
        errors.append(f"{metrics_rs}: cannot tell the type of metric {name!r} (value {value.strip()!r})")
        continue
    labels = set()
    struct = label_struct_of(type_expr)
    if struct:
        labels = labels_of(struct)
        if labels is None:
            errors.append(f"{metrics_rs}: label struct {struct} of {name!r} not found")
            labels = set()
    full = prefix + name
    if kind == "Counter":
        exported[full + "_total"] = labels
    elif kind == "Gauge":
        exported[full] = labels
    else:
        exported[full + "_bucket"] = labels | {"le"}
        exported[full + "_sum"] = labels
        exported[full + "_count"] = labels

# Series every scrape adds, and the target labels Prometheus attaches.
SCRAPE_SERIES = {"up": set()}
TARGET_LABELS = {"job", "instance"}
known = dict(SCRAPE_SERIES)
known.update(exported)

# Label values the rules and the dashboard compare against: login outcomes as the server counts
# them (`state.metrics.login("failure")`), status classes as app.rs formats them (`5xx`).
server_code = "\n".join(p.read_text(encoding="utf-8") for p in pathlib.Path(server_src).rglob("*.rs"))
VALUES = {
    "outcome": set(re.findall(r'metrics\.login\(\s*"(\w+)"\s*\)', server_code)),
    "status": {"1xx", "2xx", "3xx", "4xx", "5xx"},
}
if not VALUES["outcome"]:
    errors.append(f"{server_src}: no `metrics.login(\"...\")` calls found")

# --- A small PromQL scanner: which metric names and label names an expression selects ---------
TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    | (?P<var>\$\{[^}]*\}|\$\w+|\[\[\w+\]\])
    | (?P<number>\d[\w.]*|\.\d[\w.]*)
    | (?P<ident>[a-zA-Z_:][\w:]*)
    | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=(){}\[\],@])
    """,
    re.X,
)
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "offset", "bool", "inf", "nan", "atan2", "start", "end"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}


def tokens(expr):
    pos, out = 0, []
    while pos < len(expr):
        tm = TOKEN.match(expr, pos)
        if not tm:
            raise ValueError(f"cannot read {expr[pos:pos + 20]!r}")
        pos = tm.end()
        if tm.lastgroup not in ("ws", "comment"):
            out.append((tm.lastgroup, tm.group()))
    return out


def selectors(expr):
    """Yields (metric name or None, [(label, op, value)]) for every vector selector in expr."""
    # Grafana's label_values(selector, label): keep the selector, drop the label argument.
    expr = re.sub(r"label_values\((.*),\s*\w+\s*\)\s*$", r"\1", expr.strip())
    expr = re.sub(r"label_values\(\s*\w+\s*\)\s*$", "", expr)
    toks = tokens(expr)
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind == "ident" and text in GROUPING and nxt == "(":
            while toks[i][1] != ")":  # skip the label list
                i += 1
        elif kind == "op" and text == "[":
            while toks[i][1] != "]":  # range or subquery: durations and variables
                i += 1
        elif kind == "ident" and text in KEYWORDS:
            pass
        elif kind == "ident" and nxt in ("(", "by", "without"):
            pass  # a function or aggregation (`sum by (job) (...)`)
        elif (kind == "ident" and nxt == "{") or (kind == "op" and text == "{"):
            name = text if kind == "ident" else None
            if kind == "ident":
                i += 1
            labels, i = [], i + 1
            while toks[i][1] != "}":
                if toks[i][0] == "ident" and toks[i + 1][1] in ("=", "!=", "=~", "!~"):
                    if toks[i][1] == "__name__" and toks[i + 2][0] == "string":
                        name = toks[i + 2][1][1:-1]
                    else:
                        value = toks[i + 2][1][1:-1] if toks[i + 2][0] == "string" else None
                        labels.append((toks[i][1], toks[i + 1][1], value))
                i += 1
            yield name, labels
        elif kind == "ident":
            yield text, []
        i += 1


def check(where, expr):
    if not isinstance(expr, str) or not expr.strip():
        return 0
    n = 0
    try:
        found = list(selectors(expr))
    except (ValueError, IndexError) as e:
        errors.append(f"{where}: cannot scan {expr!r}: {e}")
        return 0
    for name, labels in found:
        n += 1
        if name is None:
            errors.append(f"{where}: selector without a metric name in {expr!r}")
            continue
        if name not in known:
            errors.append(f"{where}: {name!r} is not a metric Ting exports")
            continue
        for label, op, value in labels:
            if label not in known[name] and label not in TARGET_LABELS:
                errors.append(f"{where}: {name} has no label {label!r}")
            # Exact values, and regexes that are plain alternatives such as "4xx|5xx".
            if label in VALUES and value is not None and op in ("=", "=~", "!=", "!~"):
                if op in ("=~", "!~") and not re.fullmatch(r"\w+(\|\w+)*", value):
                    continue
                for v in value.split("|") if op in ("=~", "!~") else [value]:
                    if v not in VALUES[label]:
                        errors.append(f"{where}: {name} never has {label}={v!r} "
                                      f"(known: {', '.join(sorted(VALUES[label]))})")
    return n


used = set()


def note(where, expr):
    if isinstance(expr, str):
        try:
            used.update(name for name, _ in selectors(expr) if name)
        except (ValueError, IndexError):
            pass
    return check(where, expr)


# --- The rules --------------------------------------------------------------------------------
rules = yaml.safe_load(open(rules_path, encoding="utf-8"))
count = 0
for group in rules.get("groups", []):
    for rule in group.get("rules", []):
        name = rule.get("alert") or rule.get("record")
        count += note(f"{rules_path}: {name}", rule.get("expr"))
        for key in ("summary", "description"):
            if "alert" in rule and not rule.get("annotations", {}).get(key):
                errors.append(f"{rules_path}: {name} has no {key} annotation")
        if "alert" in rule and rule.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
            errors.append(f"{rules_path}: {name} needs severity critical, warning or info")
print(f"rules: {count} selectors checked")

# --- The rules' unit tests: their input series must be real metrics too ------------------------
tests = yaml.safe_load(open(tests_path, encoding="utf-8"))
count = 0
for t in tests.get("tests", []):
    for s in t.get("input_series", []):
        count += note(f"{tests_path}: input series", s.get("series"))
print(f"rule tests: {count} input series checked")

# --- The dashboard ----------------------------------------------------------------------------
dash = json.load(open(dashboard_path, encoding="utf-8"))
for key in ("uid", "title", "panels", "schemaVersion"):
    if key not in dash:
        errors.append(f"{dashboard_path}: no {key!r}")
if dash.get("title") != "Ting":
    errors.append(f"{dashboard_path}: title should be 'Ting'")


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


ids = set()
count = 0
for p in walk_panels(dash.get("panels", [])):
    if p.get("id") in ids:
        errors.append(f"{dashboard_path}: duplicate panel id {p.get('id')}")
    ids.add(p.get("id"))
    if p.get("type") == "row":
        continue
    targets = p.get("targets", [])
    if not targets:
        errors.append(f"{dashboard_path}: panel {p.get('title')!r} has no query")
    for t in targets:
        count += note(f"{dashboard_path}: panel {p.get('title')!r}", t.get("expr"))
for v in dash.get("templating", {}).get("list", []):
    if v.get("type") == "query":
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        count += note(f"{dashboard_path}: variable {v.get('name')!r}", q)
print(f"dashboard: {count} selectors checked in {len(ids)} panels")

print("exported by Ting: " + ", ".join(sorted(exported)))
print("used: " + ", ".join(sorted(used)))
unused = sorted(set(exported) - used)
if unused:
    print("exported but unused (fine, just not shown or alerted on): " + ", ".join(unused))
if errors:
    print("\n".join(["", "FAILED:"] + errors), file=sys.stderr)
    sys.exit(1)
print("login outcomes counted by the server: " + ", ".join(sorted(VALUES["outcome"])))
print("ok: every metric, label and label value used is one Ting exports")
PYEOF

step "monitoring checks passed"
