// Raw.cs — hand-built messages for tests that go around VhostUserFrontend's typed methods:
// any request code, flags, payload and fds through frontend.Connection, or bytes straight onto
// the socket when the header itself must lie (oversized size field).
using System.Runtime.InteropServices;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;

namespace VhostUser.Frontend.Tests.Infrastructure;

/// <summary>A reply as received: header fields, a copy of the payload, and how many fds came with it.</summary>
internal sealed record RawReply(uint Request, HeaderFlags Flags, byte[] Payload, int FdCount)
{
    public ulong U64 => Payload.Length == 8 ? MemoryMarshal.Read<ulong>(Payload) : throw new InvalidOperationException($"reply has {Payload.Length} bytes, not a u64");
}

internal static class Raw
{
    /// <summary>Sends a request with version 1 flags (+ NEED_REPLY) and the given payload and fds.</summary>
    public static void Send(VhostUserFrontend frontend, FrontendRequest request, ReadOnlySpan<byte> payload, bool needReply = true, params ReadOnlySpan<FileDescriptor> fds) =>
        Send(frontend, (uint)request, HeaderFlags.Version1 | (needReply ? HeaderFlags.NeedReply : 0), payload, fds);

    /// <summary>Sends any header (its size taken from the payload) with the payload and fds.</summary>
    public static void Send(VhostUserFrontend frontend, uint request, HeaderFlags flags, ReadOnlySpan<byte> payload, ReadOnlySpan<FileDescriptor> fds = default) =>
        frontend.Connection.Send(new MessageHeader(request, flags, (uint)payload.Length), payload, fds);

    /// <summary>Sends a header announcing <paramref name="announcedSize"/> bytes, followed by <paramref name="payload"/> as is.</summary>
    public static void SendLyingHeader(VhostUserFrontend frontend, uint request, HeaderFlags flags, uint announcedSize, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[MessageHeader.WireSize + payload.Length];
        MemoryMarshal.Write(bytes, new MessageHeader(request, flags, announcedSize));
        payload.CopyTo(bytes.AsSpan(MessageHeader.WireSize));
        frontend.Connection.Socket.Send(bytes);
    }

    /// <summary>The next message, or null if the back end closed the connection.</summary>
    public static RawReply? Receive(VhostUserFrontend frontend)
    {
        ReceivedMessage? message;
        try
        {
            message = frontend.Connection.Receive();
        }
        catch (ProtocolException e) when (e.Error == ProtocolError.ConnectionClosed)
        {
            return null;
        }
        if (message is null)
        {
            return null;
        }
        using (message)
        {
            return new RawReply(message.Header.Request, message.Header.Flags, message.Payload.ToArray(), message.Fds.Count);
        }
    }

    /// <summary>The bytes of a wire struct.</summary>
    public static byte[] Bytes<T>(in T value)
        where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();

    public static byte[] U64(ulong value) => Bytes(new U64Payload(value));

    public static byte[] State(uint index, uint num) => Bytes(new VringState(index, num));

    public static byte[] FileIndex(int index, bool noFd = false) => Bytes(VringFileIndex.Create(index, noFd));

    /// <summary>A GET/SET_CONFIG payload: header then <paramref name="dataSize"/> data bytes.</summary>
    public static byte[] Config(uint offset, uint size, int dataSize, uint flags = 0)
    {
        var bytes = new byte[ConfigSpaceHeader.WireSize + dataSize];
        MemoryMarshal.Write(bytes, new ConfigSpaceHeader(offset, size, flags));
        return bytes;
    }

    /// <summary>A SET_MEM_TABLE payload announcing <paramref name="announced"/> regions and carrying <paramref name="regions"/>.</summary>
    public static byte[] MemTable(uint announced, params ReadOnlySpan<MemoryRegion> regions)
    {
        var bytes = new byte[MemoryTableHeader.WireSize + regions.Length * MemoryRegion.WireSize];
        MemoryMarshal.Write(bytes, new MemoryTableHeader(announced, 0));
        for (int i = 0; i < regions.Length; i++)
        {
            MemoryMarshal.Write(bytes.AsSpan(MemoryTableHeader.WireSize + i * MemoryRegion.WireSize), regions[i]);
        }
        return bytes;
    }

    public static MemoryRegion Describe(SharedRegion region) =>
        new(region.GuestPhysicalAddress, region.Size, region.UserAddress, region.MmapOffset);

    public static byte[] Single(MemoryRegion region) => Bytes(new SingleMemoryRegion(0, region));
}
