// BlkSpec.cs — virtio-blk wire facts (virtio spec 5.2; shared/reference/devices.md §3): feature
// bits, request types, status values, the request header and the discard / write-zeroes
// segment. All little-endian; the hosts we run on are little-endian, so the structs are read
// as they lie in guest memory (copied out first, then validated).
using System.Runtime.InteropServices;
using VhostUser.Virtio;

namespace VhostUser.Devices.Blk;

/// <summary>virtio-blk feature bits (devices.md §3.1).</summary>
internal static class BlkFeatures
{
    public const VirtioFeatures SizeMax = (VirtioFeatures)(1UL << 1);
    public const VirtioFeatures SegMax = (VirtioFeatures)(1UL << 2);
    public const VirtioFeatures ReadOnly = (VirtioFeatures)(1UL << 5);
    public const VirtioFeatures BlkSize = (VirtioFeatures)(1UL << 6);
    public const VirtioFeatures Flush = (VirtioFeatures)(1UL << 9);
    public const VirtioFeatures Topology = (VirtioFeatures)(1UL << 10);
    public const VirtioFeatures ConfigWce = (VirtioFeatures)(1UL << 11);
    public const VirtioFeatures Mq = (VirtioFeatures)(1UL << 12);
    public const VirtioFeatures Discard = (VirtioFeatures)(1UL << 13);
    public const VirtioFeatures WriteZeroes = (VirtioFeatures)(1UL << 14);
}

/// <summary>Request types (devices.md §3.3).</summary>
internal static class BlkRequestType
{
    public const uint In = 0;
    public const uint Out = 1;
    public const uint Flush = 4;
    public const uint GetId = 8;
    public const uint Discard = 11;
    public const uint WriteZeroes = 13;
}

/// <summary>Request status values.</summary>
internal static class BlkStatus
{
    public const byte Ok = 0;
    public const byte IoError = 1;
    public const byte Unsupported = 2;
}

/// <summary>The 16-byte request header: le32 type, le32 reserved (ioprio), le64 sector.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal readonly record struct BlkRequestHeader(uint Type, uint Reserved, ulong Sector)
{
    public const int Size = 16;
}

/// <summary>A discard / write-zeroes segment: le64 sector, le32 num_sectors, le32 flags (bit 0 UNMAP).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal readonly record struct BlkDiscardSegment(ulong Sector, uint SectorCount, uint Flags)
{
    public const int Size = 16;
    public const uint FlagUnmap = 1;
}
