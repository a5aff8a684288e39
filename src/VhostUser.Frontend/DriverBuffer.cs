// DriverBuffer.cs — one buffer of a chain the driver offers: device-readable with contents, or
// device-writable with a length. By default DriverQueue places the buffer in guest RAM itself;
// At() pins it to a chosen address (buffers across a region boundary, or outside memory, in
// hostile-guest tests).
using VhostUser.Memory;

namespace VhostUser.Frontend;

/// <summary>A buffer of a chain offered by <see cref="DriverQueue"/>.</summary>
public readonly struct DriverBuffer
{
    private DriverBuffer(GuestAddress? address, uint length, bool writable, ReadOnlyMemory<byte> data)
    {
        Address = address;
        Length = length;
        IsWritable = writable;
        Data = data;
    }

    /// <summary>Where the buffer is, or null to let the queue place it.</summary>
    public GuestAddress? Address { get; }

    /// <summary>Length in bytes (the descriptor's len).</summary>
    public uint Length { get; }

    /// <summary>Device-writable (the WRITE flag).</summary>
    public bool IsWritable { get; }

    /// <summary>Contents of a readable buffer, copied into guest RAM when offered.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>A device-readable buffer holding <paramref name="data"/>.</summary>
    public static DriverBuffer Readable(ReadOnlyMemory<byte> data) => new(null, (uint)data.Length, false, data);

    /// <summary>A device-writable buffer of <paramref name="length"/> bytes.</summary>
    public static DriverBuffer Writable(uint length) => new(null, length, true, default);

    /// <summary>
    /// A buffer at a fixed address. Its contents are not touched (write them with
    /// <see cref="SharedGuestMemory.Write(GuestAddress, ReadOnlySpan{byte})"/> first if needed).
    /// </summary>
    public static DriverBuffer At(GuestAddress address, uint length, bool writable) => new(address, length, writable, default);

    /// <inheritdoc />
    public override string ToString() =>
        $"{(IsWritable ? "W" : "R")}{Length}{(Address is { } a ? $"@{a}" : "")}";
}
