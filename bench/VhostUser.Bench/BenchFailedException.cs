namespace VhostUser.Bench;

/// <summary>The run could not be completed (back end missing a feature, stalled, exited): exit code 1.</summary>
internal sealed class BenchFailedException(string message) : Exception(message);
