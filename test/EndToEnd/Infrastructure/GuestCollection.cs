// Guest tests run one at a time: a TCG guest takes both cores of these machines. The collection
// serializes them inside this process; GuestLock (an flock) serializes them across processes.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace VhostUser.EndToEnd.Tests.Infrastructure;

/// <summary>The one collection every guest test class belongs to.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GuestCollection
{
    public const string Name = "Guest";
}
