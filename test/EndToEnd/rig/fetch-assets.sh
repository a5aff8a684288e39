#!/usr/bin/env bash
# Fetches everything the real-guest test rig needs, without touching the host's apt configuration:
#   * QEMU 10 from bookworm-backports, installed on the host (skipped when qemu-system-x86_64 >= 10);
#   * the guest kernel (linux-image-6.12.*-amd64-unsigned from bookworm-backports) and busybox-static,
#     downloaded and unpacked with `dpkg -x` under .cache/guest/ — never installed;
#   * host tools the initramfs builder needs (cpio, kmod) and the guest tools tests copy into
#     initramfs images (GUEST_TOOL_PACKAGES), installed on the host from stock bookworm.
# Every apt call uses a private sources list, list directory and cache under .cache/apt/, so
# /etc/apt and /var/lib/apt stay as they were. Idempotent: a second run downloads nothing.
#
# Usage: sudo test/EndToEnd/rig/fetch-assets.sh          (must run as root: it installs packages)
# Env:   FETCH_ASSETS_REFRESH=1   re-read the package lists and fetch a newer kernel if there is one.
#        GUEST_TOOL_PACKAGES="…"  override the guest tool list.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CACHE="$ROOT/.cache"
APT_DIR="$CACHE/apt"
GUEST_DIR="$CACHE/guest"

# Guest tools copied into initramfs images by tests (binaries + ldd libraries). Keep it cheap.
GUEST_TOOL_PACKAGES="${GUEST_TOOL_PACKAGES:-socat fio e2fsprogs util-linux i2c-tools gpiod alsa-utils evtest sg3-utils}"
# Host tools the rig itself uses: cpio packs the initramfs, kmod's depmod builds modules.dep,
# xz-utils decompresses .ko.xz modules, gcc + libc6-dev build small guest helpers (Fs/fsprobe.c).
HOST_TOOL_PACKAGES="cpio kmod xz-utils gcc libc6-dev"
QEMU_PACKAGES="qemu-system-x86 qemu-utils qemu-system-gui qemu-block-extra qemu-system-data"
KERNEL_PATTERN='^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$'

log() { printf 'fetch-assets: %s\n' "$*" >&2; }
started=$SECONDS

package_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
qemu_ok() {
    command -v qemu-system-x86_64 >/dev/null || return 1
    local major
    major="$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p')"
    [[ -n $major && $major -ge 10 ]] || return 1
    command -v qemu-storage-daemon >/dev/null && [[ -f /usr/share/qemu/qboot.rom ]]
}
# Fast path (no root needed, nothing downloaded): everything is already in place.
all_present() {
    qemu_ok || return 1
    local p
    for p in $HOST_TOOL_PACKAGES $GUEST_TOOL_PACKAGES; do package_installed "$p" || return 1; done
    [[ -f $GUEST_DIR/kernel/.unpacked && -f $GUEST_DIR/busybox/.unpacked && -s $GUEST_DIR/kernel-release \
       && -e $GUEST_DIR/vmlinuz && ${FETCH_ASSETS_REFRESH:-0} != 1 ]] \
       && [[ -x $CACHE/virtiofsd/virtiofsd ]]
}
summary() {
    log "ready in $((SECONDS - started)) s: QEMU $(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p'), kernel $(cat "$GUEST_DIR/kernel-release"), $(sed 's/_amd64.deb$//; s/%3a/:/' "$GUEST_DIR/busybox/.unpacked")"
}
if all_present; then summary; exit 0; fi

if [[ $(id -u) -ne 0 ]]; then
    log "must run as root (it installs QEMU and tools with apt-get): sudo $0"
    exit 1
fi

mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$GUEST_DIR/debs"
exec 9>"$CACHE/fetch-assets.lock"
flock 9

# --- private apt configuration -------------------------------------------------------------------
mirror_for() { # $1 = suite to look for in the host's deb822 sources; prints its URI
    local file=/etc/apt/sources.list.d/debian.sources
    [[ -r $file ]] || return 0
    awk -v suite="$1" '
        /^URIs:/   { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) { print uri; exit } }
        /^$/       { uri = "" }' "$file"
}
MIRROR="$(mirror_for bookworm)";           MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY="$(mirror_for bookworm-security)"; SECURITY="${SECURITY:-http://deb.debian.org/debian-security}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
SOURCES="$APT_DIR/sources.list"
cat >"$SOURCES.new" <<SOURCES_EOF
deb [signed-by=$KEYRING] $MIRROR bookworm main
deb [signed-by=$KEYRING] $MIRROR bookworm-updates main
deb [signed-by=$KEYRING] $SECURITY bookworm-security main
deb [signed-by=$KEYRING] $MIRROR bookworm-backports main
SOURCES_EOF
if cmp -s "$SOURCES.new" "$SOURCES"; then rm "$SOURCES.new"; else mv "$SOURCES.new" "$SOURCES"; rm -f "$APT_DIR/updated"; fi

APT=(-o Dir::Etc::sourcelist="$SOURCES" -o Dir::Etc::sourceparts=- \
     -o Dir::State::Lists="$APT_DIR/lists" -o Dir::Cache="$APT_DIR/cache" \
     -o Dir::Cache::pkgcache="$APT_DIR/cache/pkgcache.bin" \
     -o Dir::Cache::srcpkgcache="$APT_DIR/cache/srcpkgcache.bin" \
     -o APT::Sandbox::User=root)
export DEBIAN_FRONTEND=noninteractive

apt_update_once() {
    if [[ -f $APT_DIR/updated && ${FETCH_ASSETS_REFRESH:-0} != 1 ]]; then return; fi
    log "reading package lists (bookworm, -updates, -security, -backports) into $APT_DIR/lists"
    apt-get "${APT[@]}" -q update >&2
    touch "$APT_DIR/updated"
    FETCH_ASSETS_REFRESH=0
}

# --- QEMU 10 --------------------------------------------------------------------------------------
if qemu_ok; then
    log "QEMU already installed: $(qemu-system-x86_64 --version | head -n1)"
else
    apt_update_once
    log "installing QEMU 10 from bookworm-backports: $QEMU_PACKAGES"
    # shellcheck disable=SC2086
    apt-get "${APT[@]}" -q -y --no-install-recommends -t bookworm-backports install $QEMU_PACKAGES >&2
    qemu_ok || { log "QEMU install did not give qemu-system-x86_64 >= 10"; exit 1; }
fi

# --- host tools and guest tools (stock bookworm) ------------------------------------------------------
missing=()
for p in $HOST_TOOL_PACKAGES $GUEST_TOOL_PACKAGES; do
    package_installed "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
    apt_update_once
    log "installing host/guest tools from bookworm: ${missing[*]}"
    apt-get "${APT[@]}" -q -y --no-install-recommends install "${missing[@]}" >&2
else
    log "host and guest tools already installed"
fi

# --- guest kernel and busybox: downloaded and unpacked, never installed ----------------------------
download_and_unpack() { # $1 = package name, $2 = target dir (dpkg -x root)
    local pkg=$1 dest=$2 deb
    deb="$(ls "$GUEST_DIR/debs/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n1 || true)"
    if [[ -z $deb ]]; then
        apt_update_once
        log "downloading $pkg"
        (cd "$GUEST_DIR/debs" && apt-get "${APT[@]}" -q download "$pkg" >&2)
        deb="$(ls "$GUEST_DIR/debs/${pkg}_"*.deb | sort -V | tail -n1)"
    fi
    if [[ ! -f $dest/.unpacked || $(cat "$dest/.unpacked") != "$(basename "$deb")" ]]; then
        log "unpacking $(basename "$deb") into $dest"
        rm -rf "$dest" && mkdir -p "$dest"
        dpkg -x "$deb" "$dest"
        basename "$deb" >"$dest/.unpacked"
    fi
}

kernel_pkg=""
if [[ -f $GUEST_DIR/kernel-package && ${FETCH_ASSETS_REFRESH:-0} != 1 ]]; then
    kernel_pkg="$(cat "$GUEST_DIR/kernel-package")"
else
    apt_update_once
    kernel_pkg="$(apt-cache "${APT[@]}" pkgnames linux-image-6.12. | grep -E "$KERNEL_PATTERN" | sort -V | tail -n1 || true)"
    [[ -n $kernel_pkg ]] || { log "no package matching $KERNEL_PATTERN in bookworm-backports"; exit 1; }
    echo "$kernel_pkg" >"$GUEST_DIR/kernel-package"
fi
download_and_unpack "$kernel_pkg" "$GUEST_DIR/kernel"
download_and_unpack busybox-static "$GUEST_DIR/busybox"

# Debian's kernel package ships no modules.dep (its postinst runs depmod); make one in the cache.
kver="$(ls "$GUEST_DIR/kernel/lib/modules" | head -n1)"
if [[ ! -s $GUEST_DIR/kernel/lib/modules/$kver/modules.dep ]]; then
    log "running depmod for $kver"
    depmod -b "$GUEST_DIR/kernel" "$kver"
fi
ln -sfn "kernel/boot/vmlinuz-$kver" "$GUEST_DIR/vmlinuz"
echo "$kver" >"$GUEST_DIR/kernel-release"

# virtiofsd (trixie only) for the fs differential tests and bench: its own script and apt config.
bash "$ROOT/test/EndToEnd/Fs/fetch-virtiofsd.sh" || log "virtiofsd unavailable: the fs tests against it will skip"

summary
