#!/usr/bin/env bash
# bench/perf-run.sh — produces every number in docs/performance.md: the machine, the micro
# benchmarks, vhost-user-rng at QD1/QD64 on split and packed rings, and qemu-storage-daemon's
# vhost-user-blk export (null-co, 4 KiB random reads and writes) as the baseline for our blk.
# Needs out/vhost-user-rng and out/vhost-user-bench (make; make bench-tool) and
# qemu-storage-daemon. REPEAT (default 5) rounds per matrix, DURATION (default 5) seconds per run.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${REPEAT:-5}
duration=${DURATION:-5}

echo "== machine"
echo "nproc: $(nproc)"
grep -m1 'model name' /proc/cpuinfo
echo "kernel: $(uname -r)"
echo "dotnet: $(dotnet --version) (runtime $(dotnet --list-runtimes | awk '/NETCore/ { v = $2 } END { print v }'))"
qemu-storage-daemon --version | head -1
echo "load before: $(cat /proc/loadavg)"

echo "== micro benchmarks"
dotnet run -c Release --project bench/VhostUser.Benchmarks -- --filter '*' 2>&1 |
    grep -E '^\|| device path:|^Job=|^ *\[Host\]|^AMD|^Intel|^BenchmarkDotNet'

echo "== vhost-user-rng (no peer: QEMU has no standalone rng back end)"
bench/matrix.sh "$repeat" "out/vhost-user-rng --socket-path {socket}" "--device rng --duration $duration" \
    "--queue-depth 1 --ring split" "--queue-depth 1 --ring packed" \
    "--queue-depth 64 --ring split" "--queue-depth 64 --ring packed"

echo "== qemu-storage-daemon vhost-user-blk export (null-co), split ring (no packed ring in libvhost-user)"
qsd="qemu-storage-daemon --blockdev driver=null-co,node-name=n,size=1073741824"
qsd+=" --export type=vhost-user-blk,id=e,node-name=n,addr.type=unix,addr.path={socket},writable=on"
bench/matrix.sh "$repeat" "$qsd" "--device blk --block-size 4096 --duration $duration" \
    "--rw randread --queue-depth 1" "--rw randwrite --queue-depth 1" \
    "--rw randread --queue-depth 64" "--rw randwrite --queue-depth 64" \
    "--rw randread --queue-depth 64 --indirect on"
echo "load after: $(cat /proc/loadavg)"
