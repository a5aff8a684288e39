global using VhostUser.EndToEnd.Tests.Infrastructure;
global using Xunit;
global using Xunit.Abstractions;
