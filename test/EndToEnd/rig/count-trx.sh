#!/usr/bin/env bash
# Sums the test counts of every .trx file under a directory (default: TestResults) and prints the
# plain closing line CI reads:  "N passed, N failed, N skipped".
# Exit status: 0 when something ran and nothing failed; 1 when a test failed (or a .trx recorded
# errors, timeouts or aborts); 2 when no test ran at all (no .trx, or none executed).
# Counting: each trx's <Counters total=… executed=… passed=… failed=… error=… timeout=… aborted=…>;
# skipped = total - executed (VSTest counts an xunit skip as not executed, not as notExecuted).
set -euo pipefail

dir=${1:-TestResults}
total=0 executed=0 passed=0 failed=0 files=0

attr() { # $1 = attribute name, $2 = <Counters …> element text; prints its number (0 if absent)
    local v
    v=$(grep -o "[[:space:]]$1=\"[0-9]*\"" <<<"$2" | head -n1 | tr -dc '0-9')
    echo "${v:-0}"
}

if [[ -d $dir ]]; then
    while IFS= read -r -d '' trx; do
        counters=$(tr '\n' ' ' <"$trx" | grep -o '<Counters [^>]*>' | head -n1 || true)
        if [[ -z $counters ]]; then
            echo "count-trx: no <Counters> in $trx (test run aborted?); counted as 1 failure" >&2
            failed=$((failed + 1))
            continue
        fi
        files=$((files + 1))
        total=$((total + $(attr total "$counters")))
        executed=$((executed + $(attr executed "$counters")))
        passed=$((passed + $(attr passed "$counters")))
        failed=$((failed + $(attr failed "$counters") + $(attr error "$counters") \
            + $(attr timeout "$counters") + $(attr aborted "$counters")))
    done < <(find "$dir" -name '*.trx' -type f -print0 | sort -z)
fi

skipped=$((total - executed))
((skipped >= 0)) || skipped=0
status=0
if ((files == 0 || executed == 0)); then
    echo "count-trx: no test ran (found $files .trx file(s) under $dir)" >&2
    status=2
fi
((failed == 0)) || status=1
# the plain closing line, last
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
