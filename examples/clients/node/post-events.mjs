#!/usr/bin/env node
// Post OCSF events to an `ocsf-firehose serve` agent with Node.js 18+ (fetch, zlib; no package).
//
//   node post-events.mjs EVENTS.jsonl [--url http://127.0.0.1:8088] [--batch 500]
//
// Reads JSON lines (a file, or `-` for stdin), posts them gzipped in batches, and sends again the
// events the agent did not take (status `retry`: its buffer was full, 429, or it was stopping,
// 503) after its Retry-After. Accepted events are never sent twice. Prints one JSON line per
// rejected event (`line`: 1-based input line, `codes`: the Lambda's finding codes) and a last line
// with the totals. The token comes from OCSF_FIREHOSE_TOKEN. Exit status: 0 when every event was
// accepted, 1 when some were rejected, 2 on a request the agent refused whole (401, 413…).
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { gzipSync } from "node:zlib";
import { parseArgs } from "node:util";

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: "string", default: "http://127.0.0.1:8088" }, batch: { type: "string", default: "500" } },
});
const token = process.env.OCSF_FIREHOSE_TOKEN;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(lines) {
  const headers = { "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${options.url}/v1/events`, {
    method: "POST", headers, body: gzipSync(lines.join("\n")),
  });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), answer: await response.json() };
}

// Sends `lines` until each is accepted or rejected: their answers, in order.
async function send(lines) {
  const answers = new Array(lines.length);
  let todo = lines.map((_, i) => i);
  let retries = 0;
  while (todo.length > 0) {
    const { status, retryAfter, answer } = await post(todo.map((i) => lines[i]));
    if (!answer.events) throw new Error(`HTTP ${status}: ${answer.error}: ${answer.message}`);
    const again = [];
    for (const entry of answer.events) {
      const i = todo[entry.index];
      if (entry.status === "retry") again.push(i);
      else answers[i] = entry;
    }
    if (again.length > 0) {
      retries += 1;
      await sleep(1000 * Number(retryAfter ?? 1));
    }
    todo = again;
  }
  return { answers, retries };
}

const totals = { accepted: 0, rejected: 0, retries: 0 };
async function flush(batch) {
  const { answers, retries } = await send(batch.map(([, line]) => line));
  totals.retries += retries;
  batch.forEach(([number], i) => {
    if (answers[i].status === "rejected") {
      totals.rejected += 1;
      const codes = [...new Set(answers[i].findings.map((f) => f.code))].sort();
      console.log(JSON.stringify({ line: number, codes }));
    } else {
      totals.accepted += 1;
    }
  });
}

const input = positionals[0] === "-" || positionals.length === 0 ? process.stdin : createReadStream(positionals[0]);
const size = Number(options.batch);
let batch = [];
let number = 0;
try {
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    number += 1;
    if (line.trim() === "") continue;
    batch.push([number, line]);
    if (batch.length === size) {
      await flush(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await flush(batch);
} catch (error) {
  console.log(JSON.stringify(totals));
  console.error(`post-events: ${error.message}`);
  process.exit(2);
}
console.log(JSON.stringify(totals));
process.exit(totals.rejected > 0 ? 1 : 0);
