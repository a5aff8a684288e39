# Helpers for guest test scripts, sourced as /lib/check.sh (POSIX sh: dash in the guest).
# One line per check on the serial console:
#   VHOSTD-RESULT PASS <name>
#   VHOSTD-RESULT FAIL <name> <reason>
#   VHOSTD-INFO <key> <value>        measurements the host may print or assert on
# /init prints VHOSTD-DONE after /test.sh returns. Names are single words ([A-Za-z0-9_.-]).

pass() { echo "VHOSTD-RESULT PASS $1"; }

fail() {
    _name=$1; shift
    echo "VHOSTD-RESULT FAIL $_name ${*:-failed}"
    echo "$_name" >> /tmp/.vhostd-failures
}

info() { _k=$1; shift; echo "VHOSTD-INFO $_k $*"; }

# check NAME COMMAND [ARGS...]: PASS when the command exits 0; FAIL with its status and the
# last lines of its output otherwise.
check() {
    _name=$1; shift
    _out=$("$@" 2>&1)
    _rc=$?
    if [ "$_rc" -eq 0 ]; then
        pass "$_name"
    else
        fail "$_name" "exit $_rc: $(printf '%s' "$_out" | tail -n 3 | tr '\n' ' ')"
    fi
    return "$_rc"
}

# check_contains NAME FILE TEXT: PASS when FILE exists and contains TEXT.
check_contains() {
    if [ ! -e "$2" ]; then fail "$1" "$2 does not exist"; return 1; fi
    _content=$(cat "$2" 2>&1)
    case "$_content" in
        *"$3"*) pass "$1" ;;
        *) fail "$1" "$2 is '$(printf '%s' "$_content" | tr '\n' ' ')', expected it to contain '$3'"; return 1 ;;
    esac
}

# wait_for PATH [SECONDS]: waits until PATH exists (default 10 s); non-zero if it never does.
wait_for() {
    _deadline=$(( $(uptime_cs) + ${2:-10} * 100 ))
    while [ ! -e "$1" ]; do
        [ "$(uptime_cs)" -ge "$_deadline" ] && return 1
        sleep 0.1
    done
}

# uptime_cs: guest uptime in centiseconds (from /proc/uptime), for timing inside the guest.
uptime_cs() {
    read -r _up _idle < /proc/uptime
    echo "${_up%.*}${_up#*.}" | sed 's/^0*//;s/^$/0/'
}

# timed NAME COMMAND [ARGS...]: runs the command, prints VHOSTD-INFO NAME-cs <centiseconds>
# and stores the elapsed centiseconds in $ELAPSED_CS; returns the command's status.
timed() {
    _name=$1; shift
    _t0=$(uptime_cs)
    "$@"
    _rc=$?
    ELAPSED_CS=$(( $(uptime_cs) - _t0 ))
    info "$_name-cs" "$ELAPSED_CS"
    return "$_rc"
}

# guest_reboot: ends this stage of a multi-stage run; the machine resets and /init runs again
# with VHOSTD_STAGE one higher. Needs a run with several stages (harness: Stages > 1).
guest_reboot() {
    echo "VHOSTD-REBOOT stage=$VHOSTD_STAGE"
    sync
    reboot -f
    echo b > /proc/sysrq-trigger
    sleep 60
}
