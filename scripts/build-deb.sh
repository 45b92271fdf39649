#!/usr/bin/env bash
# Builds the Debian package of Ting: `ting` (with the web app built in) and `ting-client` in
# /usr/bin, the systemd unit and the maintainer scripts from packaging/debian.
#
#   scripts/build-deb.sh [OUTPUT.deb]
#
# Default output: $CARGO_TARGET_DIR/debian/ting_<version>_<arch>.deb (CARGO_TARGET_DIR defaults
# to target/). Needs dpkg-dev (dpkg-shlibdeps computes the library dependencies). File dates are
# the last commit's (SOURCE_DATE_EPOCH), so the package depends only on the tree built.
# TING_DEB_MAINTAINER sets the control file's Maintainer field.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
cd "$repo"

version="$(cargo pkgid -p ting-server)" version="${version##*[#@]}"
arch="$(dpkg --print-architecture)"
out="${1:-$CARGO_TARGET_DIR/debian/ting_${version}_${arch}.deb}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"

scripts/build-web.sh --if-stale   # the server embeds web/dist when it is compiled
cargo build --release --locked -p ting-server -p ting-client
bin="$CARGO_TARGET_DIR/release"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
pkg=packaging/debian
install -D -m 0755 "$bin/ting" "$root/usr/bin/ting"
install -D -m 0755 "$bin/ting-client" "$root/usr/bin/ting-client"
install -D -m 0755 "$pkg/wait-ready" "$root/usr/lib/ting/wait-ready"
install -D -m 0644 "$pkg/ting.service" "$root/usr/lib/systemd/system/ting.service"
install -D -m 0644 /dev/stdin "$root/usr/share/doc/ting/copyright" <<<"Ting
License: AGPL-3.0-only (GNU Affero General Public License, version 3 only)
 https://www.gnu.org/licenses/agpl-3.0.html"
install -d "$root/DEBIAN"
install -m 0755 "$pkg/postinst" "$pkg/prerm" "$pkg/postrm" "$root/DEBIAN/"

# Library dependencies of the binaries, as Debian names them (e.g. libc6 (>= 2.34)).
mkdir -p "$stage/shlibs/debian"
printf 'Source: ting\n\nPackage: ting\nArchitecture: any\n' >"$stage/shlibs/debian/control"
shlibs="$(cd "$stage/shlibs" && dpkg-shlibdeps -O "$root/usr/bin/ting" "$root/usr/bin/ting-client")"
shlibs="${shlibs#shlibs:Depends=}"

cat >"$root/DEBIAN/control" <<CONTROL
Package: ting
Version: $version
Architecture: $arch
Maintainer: ${TING_DEB_MAINTAINER:-Ting <root@localhost>}
Section: net
Priority: optional
Depends: $shlibs, adduser
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Description: end-to-end encrypted meetings, chat and files, self-hosted
 The Ting server (ting), a blind relay for end-to-end encrypted chat, files
 and meetings with its web app built in, and the native command-line client
 (ting-client). The ting.service systemd unit runs the server as the ting
 user with /etc/ting/ting.toml and its data in /var/lib/ting.
CONTROL
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$(dirname "$out")"
dpkg-deb --build --root-owner-group -Zxz "$root" "$out" >/dev/null
echo "build-deb: $out" >&2
