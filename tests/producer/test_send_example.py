"""The producer's example program `send` (crates/producer/examples/send.rs) as a user runs it:
JSON lines in, a moto server's Kinesis stream out (read back with boto3), the summary printed and
the exit status; then a stream that does not exist and a line that is not JSON.

Run from the repository root (scripts/test does, with MOTO_ENDPOINT set to a moto server).
"""
import base64
import hashlib
import json
import os
import pathlib
import subprocess
import uuid

import boto3
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EVENTS = sorted((ROOT / "tests" / "fixtures" / "events").glob("*.json"))
ENDPOINT = os.environ.get("MOTO_ENDPOINT")
ENV = {
    **os.environ,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}

pytestmark = pytest.mark.skipif(
    not ENDPOINT and not os.environ.get("CI"), reason="needs MOTO_ENDPOINT (scripts/test)"
)


@pytest.fixture(scope="module")
def send_binary():
    subprocess.run(
        ["cargo", "build", "--quiet", "-p", "ocsf-firehose-producer", "--example", "send"],
        cwd=ROOT, check=True,
    )
    return ROOT / "target" / "debug" / "examples" / "send"


def kinesis():
    return boto3.client(
        "kinesis", endpoint_url=ENDPOINT, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )


def jsonl(tmp_path, events):
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def run(binary, *args):
    return subprocess.run(
        [str(binary), "--endpoint-url", ENDPOINT, *args],
        capture_output=True, text=True, env=ENV, timeout=120,
    )


def read_stream(client, name):
    """Every record of every shard, each with its shard's hash key range."""
    records = []
    for shard in client.list_shards(StreamName=name)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            page = client.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                records.append({**record, "HashKeyRange": shard["HashKeyRange"]})
            if not page["Records"]:
                break
            iterator = page["NextShardIterator"]
    return records


def new_stream(client, prefix, shards):
    """A fresh stream of `shards` shards, once it exists."""
    stream = f"{prefix}-{uuid.uuid4().hex[:12]}"
    client.create_stream(StreamName=stream, ShardCount=shards)
    client.get_waiter("stream_exists").wait(StreamName=stream)
    return stream


def fixture_events(count, label):
    """`count` fixture events, each with its own `message`."""
    events = []
    for i in range(count):
        event = json.loads(EVENTS[i % len(EVENTS)].read_text())
        event["message"] = f"{label} {i}"
        events.append(event)
    return events


def test_every_event_arrives_once_and_the_summary_says_so(send_binary, tmp_path):
    client = kinesis()
    stream = new_stream(client, "send", 1)
    events = fixture_events(120, "example")
    result = run(send_binary, "--stream", stream, "--kinesis", str(jsonl(tmp_path, events)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sent 120, delivered 120, failed 0, api calls 1,"), result.stdout
    arrived = sorted(json.loads(r["Data"])["message"] for r in read_stream(client, stream))
    assert arrived == sorted(e["message"] for e in events)


def test_undeliverable_and_invalid_events_make_it_fail_with_their_codes(send_binary, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(EVENTS[0].read_text().replace("\n", " ") + "\nnot json\n")
    result = run(send_binary, "--stream", "no-such-stream", "--kinesis", str(path))
    assert result.returncode == 1, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith("sent 1, delivered 0, failed 2,"), result.stdout
    assert "  not_found: 1" in lines
    assert "  json_invalid: 1" in lines


def test_aggregated_records_decode_with_aws_kinesis_agg_byte_for_byte_into_the_events_sent(send_binary, tmp_path):
    """AWS's own de-aggregator (aws-kinesis-agg, what Lambda consumers use) splits the producer's
    KPL records back into the events exactly as they went in, byte for byte, and every sub-record hashes into
    the shard that holds its record (the KCL's check), on a stream of 4 shards."""
    from aws_kinesis_agg.deaggregator import iter_deaggregate_records

    client = kinesis()
    stream = new_stream(client, "agg", 4)
    events = fixture_events(600, "aggregated")
    result = run(
        send_binary, "--stream", stream, "--kinesis", "--aggregate", str(jsonl(tmp_path, events))
    )
    assert result.returncode == 0, result.stderr
    records = read_stream(client, stream)
    assert len(records) < len(events), "aggregated"
    sent = {e["message"]: e for e in events}
    seen = []
    for record in records:
        low = int(record["HashKeyRange"]["StartingHashKey"])
        high = int(record["HashKeyRange"]["EndingHashKey"])
        # boto3's record format, as a consumer reading the stream with boto3 has it.
        subs = list(iter_deaggregate_records([record], data_format="Boto3"))
        for sub in subs:
            key = sub["kinesis"]["partitionKey"]
            assert low <= int(hashlib.md5(key.encode()).hexdigest(), 16) <= high, "KCL keeps it"
            if record["Data"][:4] == b"\xf3\x89\x9a\xc2":
                # A KPL record: the library split it (a bad digest or protobuf would leave it
                # whole) and hands each sub-record's data back base64-encoded.
                assert sub["kinesis"].get("aggregated") is True
                data = base64.b64decode(sub["kinesis"]["data"])
            else:
                data = sub["kinesis"]["data"]
            event = json.loads(data)
            seen.append(event["message"])
            # Exactly the event sent, with the `metadata.uid` the producer gives each event.
            original = sent[event["message"]]
            expected = {**original, "metadata": {**original["metadata"], "uid": event["metadata"]["uid"]}}
            assert event == expected
            # Byte for byte: the line as sent when it had a uid (the producer passes it through),
            # else the producer's compact re-encoding with the uid stamped (keys kept in order).
            if original["metadata"].get("uid"):
                sent_bytes = json.dumps(original).encode()
            else:
                sent_bytes = json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()
            assert data == sent_bytes
    assert sorted(seen) == sorted(sent), "every event once"


def test_with_a_spool_the_summary_counts_the_replay_and_leaves_the_spool_empty(send_binary, tmp_path):
    client = kinesis()
    stream = new_stream(client, "spool", 1)
    events = fixture_events(30, "spooled")
    spool = tmp_path / "spool"
    args = ["--stream", stream, "--kinesis", "--spool", str(spool), str(jsonl(tmp_path, events))]
    result = run(send_binary, *args)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("sent 30, delivered 30, failed 0,"), result.stdout
    assert first.endswith(", replayed from the spool 0, skipped 0"), result.stdout
    # Every event resolved: no segment left, only the resume point.
    assert [p.name for p in spool.iterdir()] == ["position"]
    arrived = sorted(json.loads(r["Data"])["message"] for r in read_stream(client, stream))
    assert arrived == sorted(e["message"] for e in events)
    # The same command again: the file's lines were all taken, nothing is sent twice.
    again = run(send_binary, *args)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("sent 0, delivered 0, failed 0,"), again.stdout
    assert again.stdout.splitlines()[0].endswith(", replayed from the spool 0, skipped 30")
    assert len(read_stream(client, stream)) == 30
