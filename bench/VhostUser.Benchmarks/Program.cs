// Program.cs — entry point of the micro benchmarks. Arguments go to BenchmarkDotNet's switcher
// (--filter, --list flat, --join, ...); the default job is the short in-process one of
// QuickConfig, sized for a shared 2-core machine. README.md says how to run and read them.
using BenchmarkDotNet.Running;
using VhostUser.Benchmarks;

BenchmarkSwitcher.FromAssembly(typeof(QuickConfig).Assembly).Run(args, QuickConfig.Create(args));
