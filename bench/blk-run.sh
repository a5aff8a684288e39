#!/usr/bin/env bash
# bench/blk-run.sh — produces the vhost-user-blk numbers in docs/performance.md: our daemon against
# qemu-storage-daemon's vhost-user-blk export with the same C# front end (vhost-user-bench
# --compare: alternating runs A B, B A, …, medians and ratios), over the same image file and over
# a null disk (our --null against null-co,read-zeroes=on), 4 KiB random reads and writes at QD1
# and QD32 on 1 and 4 queues; then the same rows with --poll-us, and io_uring against the
# thread-pool engine on the image.
# Needs out/vhost-user-blk and out/vhost-user-bench (make; make bench-tool) and qemu-storage-daemon.
# REPEAT (default 5) runs per daemon per row, DURATION (default 3) seconds per run, IMAGE (default
# /var/tmp/blkbench/disk.img: 1 GiB of random data, created if missing, read once into the page
# cache), POLL_US (default 50). Usage: bench/blk-run.sh [base|poll|engines]... (default: all three).
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${REPEAT:-5}
duration=${DURATION:-3}
image=${IMAGE:-/var/tmp/blkbench/disk.img}
poll_us=${POLL_US:-50}
socket=/tmp/vhost-user-blk-bench-$$.sock
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(base poll engines)

if [ ! -f "$image" ]; then
    mkdir -p "$(dirname "$image")"
    dd if=/dev/urandom of="$image" bs=1M count=1024 status=none
fi
cat "$image" > /dev/null

# row BACKING QUEUES RW QD "OURS EXTRA OPTIONS": one --compare, ours (A) against qsd (B)
row() {
    local backing=$1 queues=$2 rw=$3 qd=$4 extra=$5 ours qsd
    if [ "$backing" = file ]; then
        ours="out/vhost-user-blk --socket-path {socket} --blk-file $image --num-queues $queues $extra"
        qsd="qemu-storage-daemon --blockdev driver=file,node-name=n,filename=$image"
    else
        ours="out/vhost-user-blk --socket-path {socket} --null 1G --num-queues $queues $extra"
        qsd="qemu-storage-daemon --blockdev driver=null-co,node-name=n,size=1073741824,read-zeroes=on"
    fi
    qsd+=" --export type=vhost-user-blk,id=e,node-name=n,addr.type=unix,addr.path={socket},writable=on,num-queues=$queues"
    echo "== $backing q=$queues $rw qd=$qd $extra load=$(cut -d' ' -f1 /proc/loadavg)"
    out/vhost-user-bench --device blk --rw "$rw" --queue-depth "$qd" --queues "$queues" --duration "$duration" \
        --repeat "$repeat" --socket-path "$socket" --compare "$ours" "$qsd" | grep -A4 '^medians'
}

matrix() {
    for backing in file null; do
        for queues in 1 4; do
            for rw in randread randwrite; do
                for qd in 1 32; do
                    row "$backing" "$queues" "$rw" "$qd" "$1"
                done
            done
        done
    done
}

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), kernel $(uname -r), $(qemu-storage-daemon --version | head -1)"
for section in "${sections[@]}"; do
    case $section in
        base) echo "== section base"; matrix "" ;;
        poll) echo "== section poll (--poll-us $poll_us)"; matrix "--poll-us $poll_us" ;;
        engines)
            echo "== section engines: io_uring (A) against the preadv2/pwritev2 thread pool (B), image file"
            for queues in 1 4; do
                for rw in randread randwrite; do
                    for qd in 1 32; do
                        echo "== engines q=$queues $rw qd=$qd load=$(cut -d' ' -f1 /proc/loadavg)"
                        out/vhost-user-bench --device blk --rw "$rw" --queue-depth "$qd" --queues "$queues" --duration "$duration" \
                            --repeat "$repeat" --socket-path "$socket" \
                            --compare "out/vhost-user-blk --socket-path {socket} --blk-file $image --num-queues $queues --io-engine uring" \
                                      "out/vhost-user-blk --socket-path {socket} --blk-file $image --num-queues $queues --io-engine threads" \
                            | grep -A4 '^medians'
                    done
                done
            done
            ;;
        *) echo "unknown section $section (base, poll, engines)" >&2; exit 2 ;;
    esac
done
