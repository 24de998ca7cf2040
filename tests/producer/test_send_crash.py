"""Crash safety of `send`, by killing it: `ocsf-firehose send --firehose` (its state: the spool
and the resume point) and the producer's example program (crates/producer/examples/send.rs,
`--spool`) each send 3,000 events from a file to a moto Firehose Direct PUT stream delivering
into a bucket, are killed (SIGKILL) at 20 seeded moments, and the same command is run again to
the end. A quarter of the kills fall in the final flush, which sends what is buffered: a seeded
share of the control run's flush after the run says it read every event (the CLI's log with
`OCSF_LOG=info`, the example's line on stderr), so that a slow run on a loaded machine is still
killed in its flush. Every event must be in the bucket at least once (Firehose does not deduplicate);
duplicates are counted and printed. The second run's summary accounts for what the first took
(replayed from the spool, skipped events).

Firehose, not Kinesis: moto's Kinesis loses records under concurrent `PutRecords` to one shard,
which the replay and the new sends make; crates/producer/tests/crash.rs and crates/cli/tests/
send.rs cover Kinesis behind a proxy that serialises the calls. Each round's stream is deleted
after it is read: moto allows 50 delivery streams per server.

Run from the repository root (scripts/test does, with MOTO_ENDPOINT set to a moto server).
"""
import collections
import json
import random
import re
import signal
import subprocess
import threading
import time
import uuid

import boto3
import pytest

from ocsf_cli import BINARY, build
from test_send_example import ENDPOINT, ENV, fixture_events, jsonl
from test_send_example import pytestmark, send_binary  # noqa: F401  (the skip rule, the fixture)

EVENTS = 3_000
KILLS = 20
# What the CLI logs (OCSF_LOG=info), and the example prints on stderr, once it has read and accepted
# every event, before its final flush.
INPUT_READ = "input read; flushing"
SUMMARY = re.compile(r"^sent (\d+), delivered (\d+), failed (\d+), .*replayed from the spool (\d+), skipped (\d+)$")


def summary(result):
    """The run's counts: from the example's summary line, or the CLI's JSON summary."""
    assert result.returncode == 0, result.stdout + result.stderr
    if result.stdout.startswith("{"):
        counts = json.loads(result.stdout)
        failed = sum(counts["notDelivered"].values()) + counts["rejectedEvents"]
        return {"sent": counts["accepted"], "delivered": counts["delivered"], "failed": failed,
                "replayed": counts["replayed"], "skipped": counts["skipped"]}
    match = SUMMARY.match(result.stdout.splitlines()[0])
    assert match, result.stdout
    sent, delivered, failed, replayed, skipped = map(int, match.groups())
    return {"sent": sent, "delivered": delivered, "failed": failed, "replayed": replayed, "skipped": skipped}


@pytest.fixture(params=["cli", "example"])
def program(request, send_binary, tmp_path):  # noqa: F811  (the fixture imported above)
    """The program's name, its command for a stream, a state folder and the input, and its
    environment."""
    if request.param == "cli":
        build()

        def command(stream, state, path):
            return [str(BINARY), "send", str(path), "--firehose", stream, "--endpoint-url", ENDPOINT,
                    "--state", str(state), "--json"]
        return request.param, command, {**ENV, "XDG_STATE_HOME": str(tmp_path / "state-home"),
                                        "OCSF_LOG": "ocsf_firehose=info"}

    def command(stream, spool, path):
        return [str(send_binary), "--endpoint-url", ENDPOINT, "--stream", stream, "--spool", str(spool), str(path)]
    return request.param, command, ENV


def client(service):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


class Stream:
    """A bucket and a Direct PUT stream into it."""

    def __init__(self, label):
        self.s3, self.firehose = client("s3"), client("firehose")
        suffix = uuid.uuid4().hex[:12]
        self.bucket = self.name = f"send-{label}-{suffix}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.firehose.create_delivery_stream(
            DeliveryStreamName=self.name, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={"BucketARN": f"arn:aws:s3:::{self.bucket}",
                                                "RoleARN": "arn:aws:iam::123456789012:role/firehose"})

    def messages(self):
        """The `message` of every event in the bucket's objects."""
        found = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                body = self.s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                found += [json.loads(line)["message"] for line in body.splitlines() if line.strip()]
        return found

    def delete(self):
        self.firehose.delete_delivery_stream(DeliveryStreamName=self.name)


class Watched:
    """A run started, with when it logged INPUT_READ (its stderr drained on a thread)."""

    def __init__(self, command, env):
        self.child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
        self.input_read = None
        self.logged = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.child.stderr:
            if INPUT_READ in line and self.input_read is None:
                self.input_read = time.monotonic()
        self.logged.set()

    def wait_input_read(self):
        """When the run logged INPUT_READ; None if it ended without."""
        while self.input_read is None and not self.logged.is_set():
            time.sleep(0.001)
        return self.input_read


def run_to_end(command, env):
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def test_a_killed_send_delivers_every_event_at_least_once(program, tmp_path):
    name, command, env = program
    events = fixture_events(EVENTS, "crash")
    path = jsonl(tmp_path, events)
    expected = {e["message"] for e in events}

    control = Stream("control")
    started = time.monotonic()
    run = Watched(command(control.name, tmp_path / "control", path), env)
    stdout = run.child.stdout.read()
    run.child.wait()
    run.reader.join()
    duration = time.monotonic() - started
    assert run.child.returncode == 0, stdout
    whole = summary(subprocess.CompletedProcess(run.child.args, 0, stdout, ""))
    # The final flush (both programs say where it begins).
    assert run.input_read is not None, "the run says when it has read its input"
    flush = duration - (run.input_read - started)
    control.delete()
    assert whole["delivered"] == EVENTS

    rng = random.Random(2303)
    in_final_flush = ended_first = replayed = duplicates = landed = 0
    for round_ in range(KILLS):
        stream = Stream(str(round_))
        state = tmp_path / f"state-{round_}"
        run = Watched(command(stream.name, state, path), env)
        if round_ % 4 != 0:
            kill_at = time.monotonic() + duration * (0.02 + 0.98 * rng.random())
        else:
            # The first flush kill as the flush begins, the others a share of it.
            share = 0.0 if round_ == 0 else 0.9 * rng.random()
            logged = run.wait_input_read()
            kill_at = (logged if logged is not None else time.monotonic()) + flush * share
        try:
            run.child.wait(timeout=max(kill_at - time.monotonic(), 0))
            ended_first += 1
        except subprocess.TimeoutExpired:
            run.child.send_signal(signal.SIGKILL)
            run.child.wait()
        run.reader.join()
        again = summary(run_to_end(command(stream.name, state, path), env))
        assert again["failed"] == 0
        assert again["skipped"] + again["sent"] == EVENTS, "every event taken once over the two runs"
        assert again["delivered"] == again["sent"] + again["replayed"]
        if again["skipped"] == EVENTS and again["replayed"] > 0:
            in_final_flush += 1
        replayed += again["replayed"]
        counts = collections.Counter(stream.messages())
        stream.delete()
        missing = expected - set(counts)
        assert not missing, f"round {round_}: {len(missing)} events lost"
        assert set(counts) == expected
        duplicates += sum(n - 1 for n in counts.values())
        landed += sum(counts.values())
    print(f"send crash ({name}, Firehose): {KILLS} kills, whole run {duration:.1f} s; {in_final_flush} in the final "
          f"flush, {ended_first} ended before the kill; {replayed} events replayed from the spool; "
          f"{landed} records landed for {KILLS * EVENTS} events: {duplicates} duplicates, 0 lost")
    assert in_final_flush > 0, "some kills fell in the final flush"
