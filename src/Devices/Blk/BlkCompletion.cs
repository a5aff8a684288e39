// BlkCompletion.cs — what an engine result means for a request: the virtio status, or a second
// try. Transfers must move every byte (a short transfer is an I/O error: ranges were checked
// against the capacity, so only a shrunk file or a full disk cut one short). An O_DIRECT transfer
// the kernel refuses as unaligned (EINVAL; guest buffers need not be aligned) is redone through
// the buffered descriptor. DISCARD is advisory: a backing without hole punching still says OK;
// on a block device it is a real discard first, a punch (write-zeroes with unmap) second.
// WRITE_ZEROES falls back from punching (UNMAP) to zeroing a range to writing zero buffers.
using VhostUser.Unix;

namespace VhostUser.Devices.Blk;

internal static class BlkCompletion
{
    /// <summary>AllocateMode of a WRITE_ZEROES that writes zero buffers instead of calling fallocate.</summary>
    public const int WritingZeroes = -1;

    private const long EInvalid = -BlockFile.ErrorInvalid;
    private const long ENotSupported = -BlockFile.ErrorNotSupported;

    /// <summary>
    /// Returns the status for <paramref name="request"/>'s finished operation, or sets
    /// <paramref name="retry"/> after preparing the request for its next operation.
    /// </summary>
    public static byte Decide(BlkRequest request, long result, MappedRegion zeroes, bool bufferedFallback, out bool retry)
    {
        retry = false;
        switch (request.Operation)
        {
            case BlkOperation.Read or BlkOperation.Write:
                if (result == request.Length)
                {
                    return BlkStatus.Ok;
                }
                if (result == EInvalid && bufferedFallback && request.File == 0)
                {
                    request.File = 1;
                    retry = true;
                }
                return BlkStatus.IoError;
            case BlkOperation.Flush:
                return result == 0 ? BlkStatus.Ok : BlkStatus.IoError;
            case BlkOperation.Discard:
                if (request.AllocateMode == BlockFile.DiscardRange && result is ENotSupported or EInvalid)
                {
                    // No discard command (Linux < 6.12) or no discard on the device: try a punch,
                    // which the kernel turns into a write-zeroes with unmap.
                    request.AllocateMode = BlockFile.PunchHole;
                    retry = true;
                    return BlkStatus.Ok;
                }
                return result is 0 or ENotSupported ? BlkStatus.Ok : BlkStatus.IoError;
            default:
                return WriteZeroes(request, result, zeroes, out retry);
        }
    }

    private static byte WriteZeroes(BlkRequest request, long result, MappedRegion zeroes, out bool retry)
    {
        retry = false;
        if (request.AllocateMode == WritingZeroes)
        {
            if (result <= 0)
            {
                return BlkStatus.IoError;
            }
            request.Offset += result;
            request.ZeroesLeft -= result;
            return request.ZeroesLeft == 0 ? BlkStatus.Ok : NextZeroChunk(request, zeroes, out retry);
        }
        if (result == 0)
        {
            return BlkStatus.Ok;
        }
        if (result is ENotSupported or EInvalid)
        {
            if (request.AllocateMode == BlockFile.PunchHole)
            {
                request.AllocateMode = BlockFile.ZeroRange;
                retry = true;
                return BlkStatus.Ok;
            }
            request.AllocateMode = WritingZeroes;
            request.ZeroesLeft = request.Length;
            return NextZeroChunk(request, zeroes, out retry);
        }
        return BlkStatus.IoError;
    }

    private static byte NextZeroChunk(BlkRequest request, MappedRegion zeroes, out bool retry)
    {
        request.Vectors.Clear();
        request.Vectors.TryAdd(zeroes, 0, (ulong)Math.Min(request.ZeroesLeft, (long)zeroes.Length));
        retry = true;
        return BlkStatus.Ok;
    }
}
