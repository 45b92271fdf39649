#!/usr/bin/env bash
# Checks an `strace -f` log of the Ting server against a systemd unit's sandbox, for machines
# where the unit cannot be started: every system call allowed by its SystemCallFilter=, every
# socket family in RestrictAddressFamilies=, and no writable+executable memory
# (MemoryDenyWriteExecute=).
#
#   scripts/check-sandbox.sh TRACE [UNIT]   # UNIT defaults to packaging/debian/ting.service
set -euo pipefail

trace="$1"
unit="${2:-$(dirname "${BASH_SOURCE[0]}")/../packaging/debian/ting.service}"

# The system calls a filter group stands for (groups nest).
expand() {
    local name
    for name in "$@"; do
        if [[ $name == @* ]]; then
            expand $(systemd-analyze syscall-filter "$name" | sed 1d | grep -v '^ *#' | tr -d ' ')
        else
            echo "$name"
        fi
    done
}
allowed="$(expand $(sed -n 's/^SystemCallFilter=\([^~]\)/\1/p' "$unit") | sort -u)"
denied="$(expand $(sed -n 's/^SystemCallFilter=~//p' "$unit") | sort -u)"
used="$(sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$trace" | sort -u)"

bad="$(comm -23 <(echo "$used") <(comm -23 <(echo "$allowed") <(echo "$denied")))"
[[ -z "$bad" ]] || { echo "check-sandbox: system calls outside SystemCallFilter: $bad" >&2; exit 1; }

families="$(sed -nE 's/^[0-9]+ +socket\((AF_[A-Z0-9]+),.*/\1/p' "$trace" | sort -u)"
for f in $families; do
    grep -qE "^RestrictAddressFamilies=.*\b$f\b" "$unit" ||
        { echo "check-sandbox: socket family $f is not in RestrictAddressFamilies" >&2; exit 1; }
done

if grep -qE '^MemoryDenyWriteExecute=yes' "$unit" &&
    grep -E '^[0-9]+ +(mmap|mprotect|pkey_mprotect)\(' "$trace" | grep -E 'mprotect.*PROT_EXEC|PROT_WRITE\|PROT_EXEC' |
    grep -v '= -1'; then
    echo "check-sandbox: writable and executable memory requested (MemoryDenyWriteExecute)" >&2
    exit 1
fi
echo "check-sandbox: $(wc -l <<<"$used") system calls, socket families ${families//$'\n'/ }: within $unit"
