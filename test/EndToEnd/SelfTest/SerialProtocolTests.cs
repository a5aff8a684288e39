// The serial protocol parser, without a guest.
namespace VhostUser.EndToEnd.Tests.SelfTest;

public sealed class SerialProtocolTests
{
    [Fact]
    public void Accept_ResultLines_AreCollectedPerStage()
    {
        var p = new SerialProtocol();
        p.Accept("VHOSTD-BOOT uptime=1.0");
        p.Accept("VHOSTD-STAGE 1");
        p.Accept("VHOSTD-RESULT PASS a");
        p.Accept("[    2.1] some kernel text VHOSTD-RESULT FAIL b reason with spaces\r");
        p.Accept("VHOSTD-INFO read-cs 125");
        p.Accept("VHOSTD-RESULT FAIL b reason with spaces");   // console repeat: ignored
        p.Accept("VHOSTD-BOOT uptime=1.1");
        p.Accept("VHOSTD-STAGE 2");
        p.Accept("VHOSTD-RESULT PASS a");
        p.Accept("VHOSTD-DONE");

        Assert.Equal(2, p.Boots);
        Assert.True(p.Done);
        Assert.Equal(2, p.DoneStage);
        Assert.Equal(
            ["PASS a", "FAIL b: reason with spaces", "PASS a (stage 2)"],
            p.Checks.Select(c => c.ToString()).ToArray());
        Assert.Equal(new KeyValuePair<string, string>("read-cs", "125"), Assert.Single(p.Info));
    }

    [Fact]
    public void Accept_OtherOutput_IsNotAnEvent()
    {
        var p = new SerialProtocol();
        Assert.Null(p.Accept("[    0.000000] Linux version 6.12"));
        Assert.Null(p.Accept("VHOSTD-RESULTS are not a marker"));
        Assert.Empty(p.Checks);
    }
}
