#!/usr/bin/env bash
# bench/matrix.sh — runs several bench configurations REPEAT times each, rotating their order every
# round (round r starts at configuration r mod N) so the slow drifts of a shared machine spread over
# all of them, then prints every run and each configuration's medians. Every run spawns the daemon
# afresh, pinned with taskset (vhost-user-bench --spawn; bench on CPU 0, daemon on CPU 1).
#
# usage: bench/matrix.sh REPEAT "DAEMON COMMAND" "COMMON ARGS" "CONFIG ARGS" ["CONFIG ARGS" ...]
#   e.g. bench/matrix.sh 3 "out/vhost-user-rng --socket-path {socket}" "--device rng --duration 5" \
#          "--queue-depth 1 --ring split" "--queue-depth 64 --ring split"
# BENCH=path overrides the tool (default out/vhost-user-bench); SOCKET=path the socket.
set -euo pipefail
if [ $# -lt 4 ]; then
    sed -n 's/^# \{0,1\}//; 2,10p' "$0" >&2
    exit 2
fi
repeat=$1 daemon=$2 common=$3
shift 3
configs=("$@")
bench=${BENCH:-out/vhost-user-bench}
socket=${SOCKET:-/tmp/vhost-user-bench-$$.sock}
results=$(mktemp)
trap 'rm -f "$results"' EXIT

n=${#configs[@]}
for ((round = 0; round < repeat; round++)); do
    for ((k = 0; k < n; k++)); do
        i=$(((round + k) % n))
        # shellcheck disable=SC2086 # the argument strings are meant to split into words
        out=$("$bench" --socket-path "$socket" --spawn "$daemon" $common ${configs[$i]})
        # requests/s R  MB/s M  latency-us mean A median D p99 P p99.9 Q / ... daemon C  bench-gcs G
        line=$(awk -v cfg="$i" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
            /^requests\/s/ { r = $2; m = $4; mean = $7; med = $9; p99 = $11 }
            /cpu-us\/request/ { for (j = 1; j <= NF; j++) if ($j == "daemon") d = $(j + 1) }
            END { print cfg, r, m, mean, med, p99, d, load }' <<<"$out")
        echo "$line" >>"$results"
        printf 'round %d  [%s] %s\n' $((round + 1)) "${configs[$i]}" "$(awk '{ printf "req/s %s MB/s %s mean-us %s median-us %s p99-us %s daemon-cpu-us/req %s load %s", $2, $3, $4, $5, $6, $7, $8 }' <<<"$line")"
    done
done

echo "medians of $repeat run(s): requests/s  MB/s  mean-us  median-us  p99-us  daemon-cpu-us/req"
for ((i = 0; i < n; i++)); do
    row=""
    for col in 2 3 4 5 6 7; do
        row+=" $(awk -v c="$i" -v k="$col" '$1 == c { print $k }' "$results" | sort -g |
            awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
    done
    printf '[%s]%s\n' "${configs[$i]}" "$row"
done
