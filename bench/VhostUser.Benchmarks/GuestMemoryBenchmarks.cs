// GuestMemoryBenchmarks.cs — guest-address lookup with 1, 8 and 64 regions: TryGetSpan (what
// ChainReader/ChainWriter do per buffer) and IsRangeMapped (what a pop does per descriptor).
// GuestMemory scans up to 8 regions linearly and binary-searches beyond; the addresses are spread
// at random over all regions so neither the branch predictor nor the first region wins.
using BenchmarkDotNet.Attributes;
using VhostUser.Frontend;
using VhostUser.Memory;

namespace VhostUser.Benchmarks;

/// <summary>Address → region lookups.</summary>
[MemoryDiagnoser]
public class GuestMemoryBenchmarks
{
    /// <summary>Lookups per benchmark call.</summary>
    public const int Lookups = 1024;

    private const ulong RegionSize = 1 << 20;
    private const ulong RegionStride = 2 << 20; // a hole between regions, as in a real guest map

    private SharedGuestMemory _memory = null!;
    private GuestMemory _view = null!;
    private GuestAddress[] _addresses = [];

    /// <summary>Regions in the memory map.</summary>
    [Params(1, 8, 64)]
    public int Regions { get; set; }

    /// <summary>Maps the regions and picks the addresses.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _memory = SharedGuestMemory.Create(RegionSize);
        for (int i = 1; i < Regions; i++)
        {
            _memory.AddRegion((ulong)i * RegionStride, RegionSize);
        }
        _view = _memory.View;
        var random = new Random(7);
        _addresses = new GuestAddress[Lookups];
        for (int i = 0; i < Lookups; i++)
        {
            ulong region = (ulong)random.Next(Regions);
            ulong offset = (ulong)random.NextInt64((long)RegionSize - 64);
            _addresses[i] = new GuestAddress(region * RegionStride + offset);
        }
    }

    /// <summary>A 64-byte span at each address.</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public int TryGetSpan()
    {
        int total = 0;
        foreach (var address in _addresses)
        {
            if (_view.TryGetSpan(address, 64, out var span))
            {
                total += span.Length;
            }
        }
        return total;
    }

    /// <summary>Is each 64-byte range mapped.</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public int IsRangeMapped()
    {
        int mapped = 0;
        foreach (var address in _addresses)
        {
            if (_view.IsRangeMapped(address, 64))
            {
                mapped++;
            }
        }
        return mapped;
    }

    /// <summary>Unmaps the RAM.</summary>
    [GlobalCleanup]
    public void Cleanup() => _memory.Dispose();
}
