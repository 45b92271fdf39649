#!/usr/bin/env bash
# Tests the Debian package on this machine: install, run the server as the unit would, remove,
# reinstall (configuration kept), purge (configuration, data and user gone), install from
# scratch, and purge again so the machine is left as found. Refuses to run where Ting is already
# installed. Needs root (or sudo), dpkg, adduser and systemd-analyze (package systemd; PID 1 need
# not be systemd); with strace installed, also checks the server's system calls, socket families
# and memory mappings against the unit's sandbox.
#
#   scripts/test-deb.sh [PACKAGE.deb]   # default: what scripts/build-deb.sh writes
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$repo"
if [[ $# -gt 0 ]]; then
    deb="$(realpath "$1")"
else
    version="$(cargo pkgid -p ting-server)" version="${version##*[#@]}"
    deb="${CARGO_TARGET_DIR:-$repo/target}/debian/ting_${version}_$(dpkg --print-architecture).deb"
fi
[[ "$(id -u)" -eq 0 ]] || exec sudo -E "$0" "$deb"
max_exposure=1.5   # systemd-analyze security's overall exposure (0 = best, 10 = worst)

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
config=/etc/ting/ting.toml unit=/usr/lib/systemd/system/ting.service
installed() { dpkg-query -W -f '${db:Status-Status}' ting 2>/dev/null | grep -qx installed; }
user_exists() { getent passwd ting >/dev/null; }

if installed || user_exists || [[ -e /etc/ting || -e /var/lib/ting ]]; then
    fail "Ting (package, user, /etc/ting or /var/lib/ting) is already on this machine"
fi
work="$(mktemp -d)" server=""
cleanup() {
    [[ -z "$server" ]] || kill "$server" 2>/dev/null || true
    dpkg --purge ting >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

step "install $deb"
dpkg -i "$deb"
user_exists || fail "no ting user"
[[ -f $config ]] || fail "no $config"
[[ "$(stat -c %U:%G:%a $config /var/lib/ting)" == $'root:ting:640\nting:ting:700' ]] ||
    fail "owners/modes: $(stat -c '%n %U:%G:%a' $config /var/lib/ting)"
runuser -u ting -- /usr/bin/ting config check --config $config >"$work/effective.toml"
grep -qx 'data_dir = "/var/lib/ting"' "$work/effective.toml" || fail "data_dir is not /var/lib/ting"
/usr/bin/ting --version
/usr/bin/ting-client --version

step "systemd unit"
[[ -f $unit ]] || fail "no $unit"
systemd-analyze verify $unit
systemd-analyze security --offline=true --no-pager $unit | tee "$work/security" | grep -v '^✓' || true
score="$(sed -n 's/.*Overall exposure level for ting.service: \([0-9.]*\).*/\1/p' "$work/security")"
awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s != "" && s <= m) }' ||
    fail "exposure ${score:-?} is above $max_exposure"
echo "exposure $score (limit $max_exposure)"

step "run the server as the unit does (user ting, no capabilities, umask 0077)"
port=18080
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
export TING_SERVER_LISTEN="127.0.0.1:$port"
as_ting=(setpriv --reuid=ting --regid=ting --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all)
trace=()
if command -v strace >/dev/null; then   # traced as ting, so the trace is the server's alone
    chmod 0711 "$work" && install -o ting -m 0600 /dev/null "$work/trace"
    trace=(strace -f -qq -o "$work/trace")
fi
(umask 0077 && exec "${as_ting[@]}" "${trace[@]}" /usr/bin/ting serve --config $config) &
server=$!
"${as_ting[@]}" /usr/lib/ting/wait-ready $config 60
[[ "$(stat -c %U:%a /var/lib/ting/ting.db)" == ting:600 ]] || fail "ting.db: $(stat -c %U:%a /var/lib/ting/ting.db)"
child="$(pgrep -P "$server" || true)"   # under strace, the server is strace's child
kill -TERM "${child:-$server}"
wait "$server" || fail "the server did not stop cleanly"
server=""
unset TING_SERVER_LISTEN
if [[ ${#trace[@]} -gt 0 ]]; then
    scripts/check-sandbox.sh "$work/trace" $unit
fi
sum="$(sha256sum $config)"

step "remove: configuration, data and user stay"
dpkg --remove ting
[[ ! -e /usr/bin/ting && ! -e $unit ]] || fail "files left after remove"
user_exists && [[ -f /var/lib/ting/ting.db ]] || fail "user or data gone after remove"
sha256sum --quiet -c <<<"$sum" || fail "$config changed by remove"

step "reinstall: configuration unchanged"
dpkg -i "$deb"
sha256sum --quiet -c <<<"$sum" || fail "$config changed by reinstall"
[[ -f /var/lib/ting/ting.db ]] || fail "data gone after reinstall"

step "purge: configuration, data and user gone"
dpkg --purge ting
! installed || fail "still installed"
[[ ! -e /etc/ting && ! -e /var/lib/ting ]] || fail "/etc/ting or /var/lib/ting left after purge"
! user_exists && ! getent group ting >/dev/null || fail "user or group ting left after purge"

step "install from scratch, then purge"
dpkg -i "$deb"
user_exists && [[ -f $config ]] || fail "fresh install incomplete"
runuser -u ting -- /usr/bin/ting config check --config $config >/dev/null
dpkg --purge ting
[[ ! -e /etc/ting && ! -e /var/lib/ting ]] && ! user_exists || fail "second purge left files or the user"

step "package test passed (exposure $score)"
