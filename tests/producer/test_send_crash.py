"""Crash safety of `send` (the producer's example program, crates/producer/examples/send.rs)
with a spool, by killing it: it sends 3,000 events from a file to a moto Firehose Direct PUT
stream delivering into a bucket, is killed (SIGKILL) at 20 seeded moments (a quarter of them in
the last fifth of a whole run, where the final flush sends what is buffered), and the same
command is run again to the end. Every event must be in the bucket at least once (Firehose does
not deduplicate); duplicates are counted and printed. (Firehose, not Kinesis: moto's Kinesis
loses records under concurrent `PutRecords` to one shard, which the replay and the new sends
make; crates/producer/tests/crash.rs covers Kinesis behind a proxy that serialises the calls.) The second run's summary accounts for what the first took (replayed from the
spool, skipped lines).

Run from the repository root (scripts/test does, with MOTO_ENDPOINT set to a moto server).
"""
import collections
import json
import random
import re
import signal
import subprocess
import time
import uuid

import boto3

from test_send_example import ENDPOINT, ENV, fixture_events, jsonl, run
from test_send_example import pytestmark, send_binary  # noqa: F401  (the skip rule, the fixture)

EVENTS = 3_000
KILLS = 20
SUMMARY = re.compile(r"^sent (\d+), delivered (\d+), failed (\d+), .*replayed from the spool (\d+), skipped (\d+)$")


def summary(result):
    assert result.returncode == 0, result.stdout + result.stderr
    match = SUMMARY.match(result.stdout.splitlines()[0])
    assert match, result.stdout
    sent, delivered, failed, replayed, skipped = map(int, match.groups())
    return {"sent": sent, "delivered": delivered, "failed": failed, "replayed": replayed, "skipped": skipped}


def client(service):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def new_stream(label):
    """A bucket and a Direct PUT stream into it: the stream's name and a reader of the bucket."""
    s3, firehose = client("s3"), client("firehose")
    suffix = uuid.uuid4().hex[:12]
    bucket, stream = f"send-{label}-{suffix}", f"send-{label}-{suffix}"
    s3.create_bucket(Bucket=bucket)
    firehose.create_delivery_stream(
        DeliveryStreamName=stream, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"BucketARN": f"arn:aws:s3:::{bucket}",
                                            "RoleARN": "arn:aws:iam::123456789012:role/firehose"})

    def messages():
        found = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                found += [json.loads(line)["message"] for line in body.splitlines() if line.strip()]
        return found
    return stream, messages


def test_a_killed_send_with_a_spool_delivers_every_event_at_least_once(send_binary, tmp_path):
    events = fixture_events(EVENTS, "crash")
    path = jsonl(tmp_path, events)
    expected = {e["message"] for e in events}

    def command(stream, spool):
        return ["--stream", stream, "--spool", str(spool), str(path)]

    started = time.monotonic()
    control = summary(run(send_binary, *command(new_stream("control")[0], tmp_path / "control")))
    duration = time.monotonic() - started
    assert control["delivered"] == EVENTS

    rng = random.Random(2303)
    in_final_flush = ended_first = replayed = duplicates = landed = 0
    for round_ in range(KILLS):
        stream, messages = new_stream(str(round_))
        spool = tmp_path / f"spool-{round_}"
        share = 0.8 + 0.2 * rng.random() if round_ % 4 == 0 else 0.02 + 0.98 * rng.random()
        child = subprocess.Popen([str(send_binary), "--endpoint-url", ENDPOINT, *command(stream, spool)],
                                 env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            child.wait(timeout=duration * share)
            ended_first += 1
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait()
        again = summary(run(send_binary, *command(stream, spool)))
        assert again["failed"] == 0
        assert again["skipped"] + again["sent"] == EVENTS, "every line taken once over the two runs"
        assert again["delivered"] == again["sent"] + again["replayed"]
        if again["skipped"] == EVENTS and again["replayed"] > 0:
            in_final_flush += 1
        replayed += again["replayed"]
        counts = collections.Counter(messages())
        missing = expected - set(counts)
        assert not missing, f"round {round_}: {len(missing)} events lost"
        assert set(counts) == expected
        duplicates += sum(n - 1 for n in counts.values())
        landed += sum(counts.values())
    print(f"send crash (Firehose): {KILLS} kills, whole run {duration:.1f} s; {in_final_flush} in the final flush, "
          f"{ended_first} ended before the kill; {replayed} events replayed from the spool; "
          f"{landed} records landed for {KILLS * EVENTS} events: {duplicates} duplicates, 0 lost")
    assert in_final_flush > 0, "some kills fell in the final flush"
