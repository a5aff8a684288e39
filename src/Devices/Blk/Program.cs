// Program.cs — vhost-user-blk: parse options, open the backing, serve one device; SIGHUP re-reads
// the backing's size (online resize).
using System.CommandLine;
using System.Runtime.InteropServices;
using VhostUser.Backend;
using VhostUser.Devices.Blk;

var commandLine = new DaemonCommandLine("vhost-user-blk", "vhost-user virtio-blk back end (image file, block device or null disk)", "block");
var file = new Option<string?>("--blk-file") { Description = "image file or block device to serve", HelpName = "PATH" };
var nullSize = new Option<string?>("--null") { Description = "serve a null disk of SIZE bytes instead (reads zeroes, drops writes), e.g. 1G", HelpName = "SIZE" };
var readOnly = new Option<bool>("--read-only") { Description = "serve a read-only disk (VIRTIO_BLK_F_RO)" };
var direct = new Option<bool>("--direct") { Description = "open the backing with O_DIRECT (bypass the host page cache)" };
var serial = new Option<string?>("--serial") { Description = "GET_ID serial, at most 20 bytes (default: derived from the backing's path)", HelpName = "STR" };
var logical = new Option<int?>("--logical-block-size") { Description = "logical block size: 512, 1024, 2048 or 4096 (default: a block device's own, else 512)", HelpName = "BYTES" };
var physical = new Option<int?>("--physical-block-size") { Description = "physical block size (default: a block device's own, else the logical one)", HelpName = "BYTES" };
var queues = new Option<int>("--num-queues") { Description = "request queues, each on its own worker thread (1..64)", HelpName = "N", DefaultValueFactory = _ => 1 };
var queueSize = new Option<int>("--queue-size") { Description = "largest ring accepted, a power of two (2..32768)", HelpName = "N", DefaultValueFactory = _ => 1024 };
var pollUs = new Option<int>("--poll-us") { Description = "after a batch, poll the ring for up to N µs before sleeping (0: off)", HelpName = "N", DefaultValueFactory = _ => 0 };
var engine = new Option<string>("--io-engine") { Description = "uring (io_uring on each queue worker) or threads (a preadv/pwritev thread pool)", HelpName = "ENGINE", DefaultValueFactory = _ => "uring" };
var ioThreads = new Option<int>("--io-threads") { Description = "threads of the threads engine", HelpName = "N", DefaultValueFactory = _ => 4 };
var workers = new Option<int?>("--workers") { Description = "queue worker threads; queue i runs on worker i mod N (default: one per queue, at most one per usable CPU)", HelpName = "N" };
foreach (var option in new Option[] { file, nullSize, readOnly, direct, serial, logical, physical, queues, queueSize, pollUs, engine, ioThreads, workers })
{
    commandLine.Add(option);
}
commandLine.CapabilityFeatures.Add("blk-file");
commandLine.CapabilityFeatures.Add("read-only");

PosixSignalRegistration? hangUp = null;
int exitCode = commandLine.Run(args, invocation =>
{
    var options = BlkOptions.Create(invocation.GetValue(file), invocation.GetValue(nullSize), invocation.GetValue(readOnly),
        invocation.GetValue(direct), invocation.GetValue(serial), invocation.GetValue(logical), invocation.GetValue(physical),
        invocation.GetValue(queues), invocation.GetValue(queueSize), invocation.GetValue(pollUs), invocation.GetValue(engine)!,
        invocation.GetValue(ioThreads), invocation.GetValue(workers));
    var device = new BlkDevice(options);
    hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
    {
        context.Cancel = true;
        device.Resize();
    });
    return invocation.Endpoints([device]);
});
hangUp?.Dispose();
return exitCode;
