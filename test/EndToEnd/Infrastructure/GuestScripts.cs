// Guest script pieces shared by several tests (busybox sh, with /lib/check.sh sourced).
namespace VhostUser.EndToEnd.Tests.Infrastructure;

internal static class GuestScripts
{
    /// <summary>
    /// rng_checks SUFFIX: hw_random picked virtio_rng, and 1 MiB reads from /dev/hwrng.
    /// Check names: rng_current, read_1MiB (plus SUFFIX).
    /// </summary>
    public const string RngChecks = """
        rng_checks() {
            check_contains "rng_current$1" /sys/class/misc/hw_random/rng_current virtio_rng || return 1
            timed "read_1MiB$1" sh -c 'head -c 1048576 /dev/hwrng | wc -c > /tmp/rng-bytes'
            n=$(cat /tmp/rng-bytes)
            if [ "$n" = 1048576 ]; then pass "read_1MiB$1"; else fail "read_1MiB$1" "read $n of 1048576 bytes"; fi
        }

        """;
}
