"""The producer's example program `send` (crates/producer/examples/send.rs) as a user runs it:
JSON lines in, a moto server's Kinesis stream out (read back with boto3), the summary printed and
the exit status; then a stream that does not exist and a line that is not JSON.

Run from the repository root (scripts/test does, with MOTO_ENDPOINT set to a moto server).
"""
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
    shard = client.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(
        StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = []
    while True:
        page = client.get_records(ShardIterator=iterator, Limit=1000)
        records += page["Records"]
        if not page["Records"]:
            return records
        iterator = page["NextShardIterator"]


def test_every_event_arrives_once_and_the_summary_says_so(send_binary, tmp_path):
    client = kinesis()
    stream = f"send-{uuid.uuid4().hex[:12]}"
    client.create_stream(StreamName=stream, ShardCount=1)
    client.get_waiter("stream_exists").wait(StreamName=stream)
    events = []
    for i in range(120):
        event = json.loads(EVENTS[i % len(EVENTS)].read_text())
        event["message"] = f"example {i}"
        events.append(event)
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
    assert "  ResourceNotFoundException: 1" in lines
    assert "  not_a_json_object: 1" in lines
