// Post OCSF events to an `ocsf-firehose serve` agent from .NET 8+ (HttpClient, System.Text.Json;
// no package). A file-based program: `dotnet run PostEvents.cs -- EVENTS.jsonl [URL]` (.NET 10),
// or paste into a console project's Program.cs.
//
// Reads JSON lines, posts them gzipped in batches of 500, and sends again the events the agent
// did not take (status "retry": its buffer was full, 429, or it was stopping, 503) after its
// Retry-After; accepted events are never sent twice. Prints one line per rejected event with the
// Lambda's finding codes. The token comes from OCSF_FIREHOSE_TOKEN.
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

var path = args.Length > 0 ? args[0] : throw new ArgumentException("usage: PostEvents EVENTS.jsonl [URL]");
var url = new Uri(new Uri(args.Length > 1 ? args[1] : "http://127.0.0.1:8088"), "/v1/events");
using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
var token = Environment.GetEnvironmentVariable("OCSF_FIREHOSE_TOKEN");
if (!string.IsNullOrEmpty(token))
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

int accepted = 0, rejected = 0, lineNumber = 0;
var batch = new List<(int Line, string Event)>();
foreach (var line in File.ReadLines(path))
{
    lineNumber++;
    if (string.IsNullOrWhiteSpace(line)) continue;
    batch.Add((lineNumber, line));
    if (batch.Count == 500) { await Send(batch); batch.Clear(); }
}
if (batch.Count > 0) await Send(batch);
Console.WriteLine(JsonSerializer.Serialize(new { accepted, rejected }));
return rejected > 0 ? 1 : 0;

async Task Send(List<(int Line, string Event)> events)
{
    var todo = Enumerable.Range(0, events.Count).ToList();
    while (todo.Count > 0)
    {
        using var body = new MemoryStream();
        using (var gzip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes(string.Join('\n', todo.Select(i => events[i].Event))));
        var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await http.PostAsync(url, content);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (!answer.RootElement.TryGetProperty("events", out var entries))
            throw new HttpRequestException($"HTTP {(int)response.StatusCode}: {answer.RootElement}");
        var again = new List<int>();
        foreach (var entry in entries.EnumerateArray())
        {
            var i = todo[entry.GetProperty("index").GetInt32()];
            switch (entry.GetProperty("status").GetString())
            {
                case "retry": again.Add(i); break;
                case "rejected":
                    rejected++;
                    var codes = entry.GetProperty("findings").EnumerateArray()
                        .Select(f => f.GetProperty("code").GetString()).Distinct().Order();
                    Console.WriteLine(JsonSerializer.Serialize(new { line = events[i].Line, codes }));
                    break;
                default: accepted++; break;
            }
        }
        if (again.Count > 0)
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
        todo = again;
    }
}
