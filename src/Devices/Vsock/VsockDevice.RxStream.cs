// VsockDevice.RxStream.cs — host stream data into the guest's rx buffers. One readv(2) goes
// straight from the host socket into up to 16 held buffers (after each 44-byte header), within
// the guest's credit and 64 KiB per turn: with Linux's 4 KiB buffers that is one system call per
// 64 KiB instead of one per 4 KiB (docs/performance.md, vsock). Each buffer that got data becomes
// one RW packet, completed in order. The iovecs are checked against guest memory before any is
// added (IsRangeMapped), and the array leases the mappings for the duration of the call.
using System.Net.Sockets;
using VhostUser.Backend;
using VhostUser.Memory;
using VhostUser.Unix;
using VhostUser.Virtio;

namespace VhostUser.Devices.Vsock;

internal sealed partial class VsockDevice
{
    /// <summary>Most rx buffers one host read fills (Linux posts 4 KiB buffers: 16 make 64 KiB).</summary>
    private const int MaxBatchBuffers = 16;

    /// <summary>Most bytes a connection takes per turn, so that connections keep taking turns.</summary>
    private const uint MaxBatchBytes = 64 * 1024;

    /// <summary>iovec entries per batch buffer (more for buffers in pieces; a buffer that does not fit waits for the next read).</summary>
    private const int MaxSegmentsPerBuffer = 8;

    private const long EAGAIN = 11, EIO = 5;

    private readonly IoVectorArray _readVectors = new(MaxBatchBuffers * MaxSegmentsPerBuffer);

    /// <summary>
    /// Stream: one readv(2) from the host socket straight into this rx buffer and the next held
    /// ones (behind each buffer's header), within the guest's credit and MaxBatchBytes; each
    /// buffer that got data becomes one RW packet, in order. Buffers beyond the first are
    /// reported in _rxBatchExtra for FillRxBuffer to drop from the held queue.
    /// </summary>
    private bool ReadStream(VsockConnection c, DeviceQueue rx, in DescriptorChain first, ref VsockHeader header)
    {
        Span<uint> room = stackalloc uint[MaxBatchBuffers];
        int buffers = AddReadVectors(c, rx, room);
        long n;
        if (buffers > 0)
        {
            n = VectoredIo.ReadAt(c.Host.SafeHandle, _readVectors, -1); // offset -1: plain readv
            _readVectors.Clear();
        }
        else
        {
            // The first buffer is in more pieces than the vector array holds (no driver does that):
            // fill it through a span of its first piece.
            buffers = 1;
            var writer = first.CreateWriter();
            writer.Skip(VsockHeader.Size);
            var span = writer.GetSpan((int)Math.Min(c.PeerCredit, writer.Remaining));
            room[0] = (uint)span.Length;
            n = c.Host.Receive(span, SocketFlags.None, out var error);
            if (error != SocketError.Success)
            {
                n = error == SocketError.WouldBlock ? -EAGAIN : -EIO;
            }
        }
        if (n == -EAGAIN)
        {
            c.HostReadable = false;
            return false;
        }
        if (n < 0)
        {
            Log.HostSocketError(_logger, c.ToString(), $"errno {-n}");
            ResetConnection(c);
            return false;
        }
        if (n == 0)
        {
            HostEndOfFile(c);
            return false;
        }
        // Fewer bytes than asked for: probably drained; HostReadable stays set and the next
        // attempt sees EAGAIN, so readiness is never lost.
        uint left = (uint)n;
        int used = 0;
        for (; used < buffers && left > 0; used++)
        {
            ref readonly var chain = ref used == 0 ? ref first : ref _rxHeld[used];
            uint length = Math.Min(room[used], left);
            left -= length;
            var packet = header;
            packet.Op = VsockOp.Rw;
            packet.Len = length;
            c.TxCnt += length;
            c.StampCredit(ref packet);
            TraceRx(packet);
            var headerWriter = chain.CreateWriter();
            headerWriter.TryWrite(packet);
            rx.Complete(chain, VsockHeader.Size + length);
        }
        _rxBatchExtra = used - 1;
        return true;
    }

    /// <summary>
    /// Fills _readVectors with the payload areas of the held rx buffers, oldest first; returns how
    /// many buffers (room: payload bytes each). A buffer outside guest memory ends the batch; if
    /// it is the first, the ChainWriter path reports the fault (the queue breaks, as for any
    /// malformed buffer). A buffer that does not fit the vector array ends the batch too.
    /// </summary>
    private int AddReadVectors(VsockConnection c, DeviceQueue rx, Span<uint> room)
    {
        uint budget = Math.Min(c.PeerCredit, MaxBatchBytes);
        int buffers = 0;
        for (; buffers < room.Length && buffers < _rxHeld.Count && budget > 0; buffers++)
        {
            ref readonly var chain = ref _rxHeld[buffers];
            uint take = Math.Min(chain.WritableLength - VsockHeader.Size, budget);
            if (!PayloadMapped(rx, chain, take))
            {
                if (buffers == 0)
                {
                    var writer = chain.CreateWriter();
                    writer.Skip(VsockHeader.Size);
                    writer.GetSpan((int)take); // throws the guest's fault
                }
                break;
            }
            if (!AppendPayload(rx, chain, take))
            {
                // The array is full part way through this buffer: keep only the whole ones (none if
                // this is the first: ReadStream then reads into its first piece alone).
                _readVectors.Clear();
                for (int i = 0; i < buffers; i++)
                {
                    AppendPayload(rx, _rxHeld[i], room[i]);
                }
                break;
            }
            room[buffers] = take;
            budget -= take;
        }
        return buffers;
    }

    /// <summary>True if the <paramref name="length"/> bytes after the header are all in guest memory (checked before any is added).</summary>
    private static bool PayloadMapped(DeviceQueue rx, in DescriptorChain chain, uint length)
    {
        uint skip = VsockHeader.Size;
        foreach (var segment in chain.Segments)
        {
            if (!segment.Writable || length == 0)
            {
                continue;
            }
            if (skip >= segment.Length)
            {
                skip -= segment.Length;
                continue;
            }
            uint take = Math.Min(segment.Length - skip, length);
            if (!rx.Memory.IsRangeMapped(new GuestAddress(segment.Address + skip), take))
            {
                return false;
            }
            length -= take;
            skip = 0;
        }
        return length == 0;
    }

    private bool AppendPayload(DeviceQueue rx, in DescriptorChain chain, uint length)
    {
        uint skip = VsockHeader.Size;
        foreach (var segment in chain.Segments)
        {
            if (!segment.Writable || length == 0)
            {
                continue;
            }
            if (skip >= segment.Length)
            {
                skip -= segment.Length;
                continue;
            }
            uint take = Math.Min(segment.Length - skip, length);
            if (!rx.Memory.TryAppendIoVectors(_readVectors, new GuestAddress(segment.Address + skip), take))
            {
                return false;
            }
            length -= take;
            skip = 0;
        }
        return true;
    }
}
