#!/usr/bin/env python3
"""Post OCSF events to an `ocsf-firehose serve` agent, with nothing but Python's standard library.

    python3 post_events.py EVENTS.jsonl [--url http://127.0.0.1:8088] [--batch 500]

Reads JSON lines (a file, or `-` for stdin), posts them gzipped in batches, and sends again
the events the agent did not take (status `retry`: its buffer was full, `429`, or it was
stopping, `503`) after its `Retry-After`. Accepted events are never sent twice. Prints one JSON
line per rejected event (`line`: 1-based input line, `codes`: the Lambda's finding codes) and a
last line with the totals. The token comes from `OCSF_FIREHOSE_TOKEN`. Exit status: 0 when every
event was accepted, 1 when some were rejected, 2 on a request the agent refused whole (401, 413…).
"""
import argparse
import gzip
import json
import os
import sys
import time
import urllib.error
import urllib.request


def post(url, token, lines):
    """POSTs `lines` (bytes, one event each) as gzipped JSON lines: (status, headers, answer)."""
    request = urllib.request.Request(
        f"{url}/v1/events", data=gzip.compress(b"\n".join(lines)), method="POST",
        headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.load(error)


def send(url, token, lines):
    """Sends `lines` until each is accepted or rejected: their answers, in order."""
    answers = [None] * len(lines)
    todo = list(range(len(lines)))
    retries = 0
    while todo:
        status, headers, answer = post(url, token, [lines[i] for i in todo])
        if "events" not in answer:  # refused whole: 401, 413, 415, 400
            raise RuntimeError(f"HTTP {status}: {answer.get('error')}: {answer.get('message')}")
        again = []
        for entry in answer["events"]:
            i = todo[entry["index"]]
            if entry["status"] == "retry":
                again.append(i)
            else:
                answers[i] = entry
        if again:
            retries += 1
            time.sleep(float(headers.get("Retry-After", "1")))
        todo = again
    return answers, retries


def batches(stream, size):
    """The non-blank lines of `stream` in batches of `size`, each line with its 1-based number."""
    batch = []
    for number, line in enumerate(stream, 1):
        line = line.rstrip(b"\r\n")
        if line.strip():
            batch.append((number, line))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", help="JSON lines file, or - for stdin")
    parser.add_argument("--url", default="http://127.0.0.1:8088")
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    args = parser.parse_args()
    token = os.environ.get("OCSF_FIREHOSE_TOKEN")
    totals = {"accepted": 0, "rejected": 0, "retries": 0}
    stream = sys.stdin.buffer if args.events == "-" else open(args.events, "rb")
    try:
        with stream:
            for batch in batches(stream, args.batch):
                answers, retries = send(args.url, token, [line for _, line in batch])
                totals["retries"] += retries
                for (number, _), answer in zip(batch, answers):
                    if answer["status"] == "rejected":
                        totals["rejected"] += 1
                        codes = sorted({f["code"] for f in answer["findings"]})
                        print(json.dumps({"line": number, "codes": codes}))
                    else:
                        totals["accepted"] += 1
    except RuntimeError as error:
        print(json.dumps(totals))
        print(f"post_events: {error}", file=sys.stderr)
        return 2
    print(json.dumps(totals))
    return 1 if totals["rejected"] else 0


if __name__ == "__main__":
    sys.exit(main())
