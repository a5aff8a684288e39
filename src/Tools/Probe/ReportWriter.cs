// ReportWriter.cs — a ProbeReport as aligned text for people or as JSON for scripts
// (Utf8JsonWriter: AOT-safe, no reflection).
using System.Globalization;
using System.Text;
using System.Text.Json;
using VhostUser.Virtio;

namespace VhostUser.Tools.Probe;

internal static class ReportWriter
{
    private const string Indent = "                   ";

    /// <summary>The report as text, one labelled item per line (device bits named for <paramref name="deviceType"/>).</summary>
    public static string Text(string socketPath, ProbeReport report, string? deviceType = null)
    {
        var text = new StringBuilder();
        Line(text, "socket", socketPath);
        if (deviceType is not null)
        {
            Line(text, "device", $"{deviceType} (from --device)");
        }
        Line(text, "features", Hex((ulong)report.Features));
        text.Append(Indent).AppendJoin(", ", FeatureNames.Virtio((ulong)report.Features, deviceType)).Append('\n');
        if ((report.Features & VirtioFeatures.ProtocolFeatures) == 0)
        {
            Line(text, "protocol features", "(not offered)");
        }
        else
        {
            Line(text, "protocol features", Hex((ulong)report.ProtocolFeatures));
            text.Append(Indent).AppendJoin(", ", FeatureNames.Protocol((ulong)report.ProtocolFeatures)).Append('\n');
        }
        Line(text, "queues", report.QueueCount?.ToString(CultureInfo.InvariantCulture) ?? "(no MQ)");
        Line(text, "max mem slots", report.MaxMemorySlots?.ToString(CultureInfo.InvariantCulture) ?? "(no CONFIGURE_MEM_SLOTS)");
        AppendConfig(text, report.Config);
        return text.ToString();
    }

    /// <summary>The report as one JSON object (device bits named for <paramref name="deviceType"/>).</summary>
    public static string Json(string socketPath, ProbeReport report, string? deviceType = null)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("socket", socketPath);
            json.WriteString("device", deviceType);
            WriteBits(json, "features", (ulong)report.Features, FeatureNames.Virtio((ulong)report.Features, deviceType));
            if ((report.Features & VirtioFeatures.ProtocolFeatures) == 0)
            {
                json.WriteNull("protocolFeatures");
            }
            else
            {
                WriteBits(json, "protocolFeatures", (ulong)report.ProtocolFeatures, FeatureNames.Protocol((ulong)report.ProtocolFeatures));
            }
            WriteNumber(json, "queues", report.QueueCount);
            WriteNumber(json, "maxMemSlots", report.MaxMemorySlots);
            if (report.Config is { } config)
            {
                json.WriteStartObject("config");
                json.WriteNumber("size", config.Length);
                json.WriteString("hex", Convert.ToHexStringLower(config));
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("config");
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void AppendConfig(StringBuilder text, byte[]? config)
    {
        if (config is null)
        {
            Line(text, "config", "(no CONFIG)");
            return;
        }
        if (config.Length == 0)
        {
            Line(text, "config", "(refused at every size tried)");
            return;
        }
        Line(text, "config", $"{config.Length} bytes");
        for (int offset = 0; offset < config.Length; offset += 16)
        {
            var row = config.AsSpan(offset, Math.Min(16, config.Length - offset));
            text.Append(CultureInfo.InvariantCulture, $"  {offset:x4} ");
            foreach (byte b in row)
            {
                text.Append(CultureInfo.InvariantCulture, $" {b:x2}");
            }
            text.Append('\n');
        }
    }

    private static void Line(StringBuilder text, string label, string value) =>
        text.Append(label.PadRight(Indent.Length)).Append(value).Append('\n');

    private static string Hex(ulong value) => $"0x{value:x16}";

    private static void WriteBits(Utf8JsonWriter json, string name, ulong value, IReadOnlyList<string> names)
    {
        json.WriteStartObject(name);
        json.WriteString("value", Hex(value));
        json.WriteStartArray("names");
        foreach (string bit in names)
        {
            json.WriteStringValue(bit);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, ulong? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
