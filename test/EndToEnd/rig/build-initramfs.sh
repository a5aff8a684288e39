#!/usr/bin/env bash
# Builds a gzip'd newc cpio initramfs for a guest test and prints its path. Images are cached by
# a hash of everything that goes in, so a repeated test run reuses the image it built before.
#
# Usage: build-initramfs.sh [--modules "virtio_rng virtio_blk"] [--tools "socat fio"]
#                           [--script FILE] [--file HOST_PATH:GUEST_PATH]...
#   --modules  kernel modules to load, with their dependencies from the unpacked kernel's
#              modules.dep (.ko.xz decompressed here; built-in ones are skipped). virtio_mmio is
#              always included and loaded first.
#   --tools    host programs copied in with the shared libraries ldd lists and the loader.
#   --script   the guest test script, installed as /test.sh (sources /lib/check.sh helpers).
#   --file     an extra file to copy (repeatable).
# Needs the assets from fetch-assets.sh (.cache/guest) and the host's cpio.
set -euo pipefail

RIG="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$RIG/../../.." && pwd)"
CACHE="${VHOSTD_CACHE:-$ROOT/.cache}"
GUEST="$CACHE/guest"
OUT_DIR="$CACHE/initramfs"

modules="" tools="" script="" files=()
while (($#)); do
    case $1 in
        --modules) modules="$modules $2"; shift 2 ;;
        --tools) tools="$tools $2"; shift 2 ;;
        --script) script=$2; shift 2 ;;
        --file) files+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "build-initramfs: unknown argument $1" >&2; exit 2 ;;
    esac
done

die() { echo "build-initramfs: $*" >&2; exit 1; }
[[ -f $GUEST/kernel-release && -x $GUEST/busybox/bin/busybox ]] \
    || die "guest assets missing; run: sudo test/EndToEnd/rig/fetch-assets.sh"
command -v cpio >/dev/null || die "cpio missing; run: sudo test/EndToEnd/rig/fetch-assets.sh"
[[ -z $script || -f $script ]] || die "no such script: $script"

KVER="$(cat "$GUEST/kernel-release")"
MODDIR="$GUEST/kernel/lib/modules/$KVER"

# --- resolve modules: name -> relative path (kernel/…/x.ko.xz), dependencies first ---------------
norm() { local n=${1##*/}; n=${n%%.ko*}; echo "${n//-/_}"; }
declare -A module_path=()
while IFS= read -r line; do
    rel=${line%%:*}
    module_path[$(norm "$rel")]=$rel
done <"$MODDIR/modules.dep"
declare -A seen=()
ordered=()
add_module() { # $1 = relative path; adds its dependencies (right to left, as modprobe does) first
    local rel=$1 deps dep i dep_list
    [[ -n ${seen[$rel]:-} ]] && return
    seen[$rel]=1
    deps=$(grep -m1 "^$rel:" "$MODDIR/modules.dep" | cut -d: -f2)
    read -r -a dep_list <<<"$deps"
    for ((i = ${#dep_list[@]} - 1; i >= 0; i--)); do add_module "${dep_list[i]}"; done
    ordered+=("$rel")
}
for name in virtio_mmio $modules; do
    n=$(norm "$name")
    if [[ -n ${module_path[$n]:-} ]]; then
        add_module "${module_path[$n]}"
    elif sed 's/.*\///; s/\.ko.*//; s/-/_/g' "$MODDIR/modules.builtin" | grep -qx "$n"; then
        :   # built into the kernel
    else
        die "kernel module $name is neither a module nor built in ($KVER)"
    fi
done

# --- resolve tools: binary paths and their libraries ---------------------------------------------
tool_files=()
# /bin/sh is the host's dash, not busybox sh: Debian's busybox is built to prefer its own applets
# over programs on PATH, so under busybox sh a copied host tool (i2cdetect, lsblk, …) would be
# shadowed by the applet of the same name.
for t in dash $tools; do
    path=$(PATH="$PATH:/usr/sbin:/sbin" command -v "$t" || true)
    [[ -n $path && -f $path ]] || die "host tool $t not found (install it, or run fetch-assets.sh)"
    path=$(readlink -f "$path")
    tool_files+=("$path")
    while read -r lib; do tool_files+=("$lib"); done < <(ldd "$path" 2>/dev/null \
        | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p')
done

# --- cache key -----------------------------------------------------------------------------------
key=$({
    echo "kernel $KVER busybox $(cat "$GUEST/busybox/.unpacked")"
    sha256sum "${BASH_SOURCE[0]}" "$RIG/guest/init" "$RIG/guest/check.sh"
    printf 'module %s\n' "${ordered[@]}"
    for t in dash $tools; do echo "tool $t"; done
    ((${#tool_files[@]})) && sha256sum "${tool_files[@]}"
    [[ -n $script ]] && sha256sum <"$script"
    for f in "${files[@]}"; do echo "file ${f#*:}"; sha256sum <"${f%%:*}"; done
} | sha256sum | cut -c1-20)
image="$OUT_DIR/$key.cpio.gz"
if [[ -s $image ]]; then echo "$image"; exit 0; fi

# --- build ---------------------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
work=$(mktemp -d "$OUT_DIR/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
r="$work/root"
# merged-/usr layout, like the host, so paths ldd prints (/lib/…, /lib64/…) resolve
mkdir -p "$r"/{usr/bin,usr/sbin,usr/lib,usr/lib64,dev,proc,sys,tmp,run,mnt,etc/vhostd}
ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"
mknod -m 600 "$r/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$r/dev/null" c 1 3 2>/dev/null || true

cp "$GUEST/busybox/bin/busybox" "$r/usr/bin/busybox"
for applet in $("$r/usr/bin/busybox" --list-full); do
    case $applet in */busybox) continue ;; bin/*|usr/bin/*) dir=usr/bin ;; *) dir=usr/sbin ;; esac
    ln -sf /usr/bin/busybox "$r/$dir/${applet##*/}"
done

copy_host_file() { # copies a host file to the same path in the image (/lib → /usr/lib etc.)
    local src=$1 dst=$1
    case $dst in /lib/*|/lib64/*|/bin/*|/sbin/*) dst=/usr$dst ;; esac
    mkdir -p "$r$(dirname "$dst")"
    rm -f "$r$dst"
    cp -L "$src" "$r$dst"
}
for f in "${tool_files[@]}"; do copy_host_file "$f"; done
ln -sf dash "$r/usr/bin/sh"
for t in $tools; do   # also reachable under its name on PATH (e.g. mkfs.ext4 → mke2fs)
    path=$(PATH="$PATH:/usr/sbin:/sbin" command -v "$t")
    case $path in /usr/sbin/*|/sbin/*) dir=usr/sbin ;; *) dir=usr/bin ;; esac
    [[ -e $r/$dir/$t && ! -L $r/$dir/$t ]] || { rm -f "$r/$dir/$t"; cp -L "$path" "$r/$dir/$t"; }
done

: >"$r/etc/vhostd/modules"
for rel in "${ordered[@]}"; do
    dst="$r/lib/modules/$KVER/${rel%.xz}"
    mkdir -p "$(dirname "$dst")"
    case $rel in
        *.xz) xz -dc "$MODDIR/$rel" >"$dst" ;;
        *.zst) zstd -qdc "$MODDIR/$rel" >"$dst" ;;
        *.gz) gzip -dc "$MODDIR/$rel" >"$dst" ;;
        *) cp "$MODDIR/$rel" "$dst" ;;
    esac
    echo "${rel%.xz}" >>"$r/etc/vhostd/modules"
done

install -m 755 "$RIG/guest/init" "$r/init"
install -m 644 "$RIG/guest/check.sh" "$r/usr/lib/check.sh"
[[ -n $script ]] && install -m 755 "$script" "$r/test.sh"
for f in "${files[@]}"; do
    mkdir -p "$r$(dirname "${f#*:}")"
    cp -L "${f%%:*}" "$r${f#*:}"
done

(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$work/image"
mv "$work/image" "$image"
echo "$image"
