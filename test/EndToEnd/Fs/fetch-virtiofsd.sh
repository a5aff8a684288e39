#!/usr/bin/env bash
# Fetches virtiofsd (Debian trixie; bookworm has none) for the fs differential tests and the fs
# benchmark, download-only: the .debs are unpacked with `dpkg -x` under .cache/virtiofsd/root,
# never installed. virtiofsd needs trixie's glibc, so its loader and libraries are unpacked beside
# it and .cache/virtiofsd/virtiofsd runs it through that loader. trixie is named only in this
# script's own private apt configuration (.cache/apt-trixie/): the host's apt and the rig's
# bookworm configuration never see it. Idempotent: a second run downloads nothing.
#
# Usage: test/EndToEnd/Fs/fetch-virtiofsd.sh     (called by rig/fetch-assets.sh)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CACHE="$ROOT/.cache"
APT_DIR="$CACHE/apt-trixie"
DEST="$CACHE/virtiofsd"
PACKAGES="virtiofsd libc6 libgcc-s1 libcap-ng0 libseccomp2"
log() { printf 'fetch-virtiofsd: %s\n' "$*" >&2; }

if [[ -x $DEST/virtiofsd && -f $DEST/.unpacked ]] && "$DEST/virtiofsd" --version >/dev/null 2>&1; then
    log "ready: $("$DEST/virtiofsd" --version | head -n1)"
    exit 0
fi

mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$DEST/debs"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
echo "deb [signed-by=$KEYRING] $MIRROR trixie main" >"$APT_DIR/sources.list"
APT=(-o Dir::Etc::sourcelist="$APT_DIR/sources.list" -o Dir::Etc::sourceparts=- \
     -o Dir::State::Lists="$APT_DIR/lists" -o Dir::Cache="$APT_DIR/cache" \
     -o Dir::Cache::pkgcache="$APT_DIR/cache/pkgcache.bin" -o Dir::Cache::srcpkgcache="$APT_DIR/cache/srcpkgcache.bin" \
     -o Dir::State::status=/dev/null -o APT::Sandbox::User=root)

log "reading trixie package lists into $APT_DIR/lists (private configuration)"
apt-get "${APT[@]}" -q update >&2
rm -f "$DEST/debs/"*.deb
(cd "$DEST/debs" && apt-get "${APT[@]}" -q download $PACKAGES >&2)
rm -rf "$DEST/root" && mkdir -p "$DEST/root"
for deb in "$DEST/debs/"*.deb; do dpkg -x "$deb" "$DEST/root"; done
ls "$DEST/debs" >"$DEST/.unpacked"

arch_dir="$(ls -d "$DEST/root/usr/lib/"*-linux-gnu | head -n1)"
loader="$(ls "$DEST/root/usr/lib64/ld-linux-"*.so.* "$arch_dir/ld-linux-"*.so.* 2>/dev/null | head -n1)"
cat >"$DEST/virtiofsd" <<WRAPPER
#!/bin/sh
# virtiofsd from Debian trixie with its own glibc (written by fetch-virtiofsd.sh).
exec "$loader" --library-path "$arch_dir" "$DEST/root/usr/libexec/virtiofsd" "\$@"
WRAPPER
chmod +x "$DEST/virtiofsd"
log "ready: $("$DEST/virtiofsd" --version | head -n1)"
