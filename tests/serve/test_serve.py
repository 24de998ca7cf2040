"""`ocsf-firehose serve` as users run it: the agent on loopback, real HTTP clients (the Python and
Node examples of examples/clients/, several at once), each destination (moto Firehose, moto
Kinesis, moto S3, a folder), stopped with SIGTERM; every accepted event found delivered exactly
once (Firehose's bucket and Kinesis's shards read back and de-aggregated; Parquet read with
DuckDB), every rejected one answered with the codes `validate` gives it. Then what the agent
refuses: a stalled destination (429 + Retry-After, memory bounded), no token (401), a body over
the limit (413), malformed JSON (json_invalid with its offset, the other events judged), TLS.

Run from the repository root (scripts/test does, with MOTO_ENDPOINT set to a moto server).
"""
import base64
import collections
import gzip
import json
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid

import duckdb
import pytest

from ocsf_cli import BINARY, ROOT, build, moto

CLIENTS = ROOT / "examples" / "clients"
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "events").glob("*.json"))
EVENTS = int(os.environ.get("OCSF_SERVE_TEST_EVENTS", "50000"))
# The clients: this many Python and this many Node processes at once, each with its share.
PER_LANGUAGE = 3


class Agent:
    """`ocsf-firehose serve` on a free loopback port."""

    def __init__(self, tmp_path, *args, env=None):
        build()
        self.log = tmp_path / f"serve-{uuid.uuid4().hex[:8]}.log"
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--listen", "127.0.0.1:0", "--json", *args],
            stdout=subprocess.PIPE, stderr=self.log.open("w"), text=True, env=env or os.environ)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.log.read_text().partition("\n")[0]
            if "listening on " in line:
                self.url = line.split("listening on ", 1)[1].strip()
                return
            assert self.process.poll() is None, self.log.read_text()
            time.sleep(0.05)
        raise AssertionError("the agent did not start")

    def stop(self, timeout=300):
        """SIGTERM: its exit status and summary."""
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=timeout)
        summary = json.loads(out.splitlines()[-1]) if out.strip() else None
        return self.process.returncode, summary

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def request(url, body=b"", method="POST", headers=None, context=None):
    """(status, headers, JSON answer or text) of one request."""
    req = urllib.request.Request(url, data=body if method == "POST" else None, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60, context=context) as response:
            status, head, data = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, data = error.code, error.headers, error.read()
    try:
        return status, head, json.loads(data)
    except ValueError:
        return status, head, data.decode()


def mixed_events(count, label):
    """`count` JSON lines, each fixture event with its own `message`; about 1 in 250 rejected by
    the Lambda (a string `severity_id`) and 1 in 500 not JSON (cut short). The lines, and the
    messages of the valid ones."""
    lines, valid = [], set()
    for i in range(count):
        event = json.loads(FIXTURES[i % len(FIXTURES)].read_text())
        event["message"] = f"{label} {i}"
        line = json.dumps(event)
        if i % 500 == 13:
            line = line[: len(line) // 2]
        elif i % 250 == 7:
            event["severity_id"] = "very"
            line = json.dumps(event)
        else:
            valid.add(event["message"])
        lines.append(line)
    return lines, valid


def run_clients(url, lines, tmp_path, env=None):
    """The Python and Node example clients at once, each posting its share of `lines`: the
    rejected lines with their codes (by index in `lines`), and the clients' totals."""
    shares = 2 * PER_LANGUAGE
    processes = []
    for n in range(shares):
        part = lines[n::shares]
        path = tmp_path / f"client-{n}.jsonl"
        path.write_text("\n".join(part) + "\n")
        command = (["python3", str(CLIENTS / "python" / "post_events.py")] if n % 2 == 0
                   else ["node", str(CLIENTS / "node" / "post-events.mjs")])
        processes.append(subprocess.Popen([*command, str(path), "--url", url, "--batch", "250"],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                          env=env or os.environ))
    rejected, totals = {}, collections.Counter()
    for n, process in enumerate(processes):
        out, err = process.communicate(timeout=900)
        assert process.returncode in (0, 1), f"client {n}: {err}"
        *answers, total = out.splitlines()
        totals.update(json.loads(total))
        for answer in map(json.loads, answers):
            rejected[(answer["line"] - 1) * shares + n] = answer["codes"]
    return rejected, totals


def validate_codes(lines, indexes, tmp_path):
    """The error codes `ocsf-firehose validate` gives each of those lines."""
    path = tmp_path / "rejected.jsonl"
    path.write_text("\n".join(lines[i] for i in indexes) + "\n")
    run = subprocess.run([str(BINARY), "validate", "--format", "json", str(path)],
                         capture_output=True, text=True, timeout=300)
    reports = [json.loads(line) for line in run.stdout.splitlines()]
    return {i: sorted({f["code"] for f in r["findings"] if f["severity"] == "error"})
            for i, r in zip(indexes, reports)}


def parquet_messages(folder):
    return [row[0] for row in duckdb.sql(
        f"SELECT message FROM read_parquet('{folder}/**/*.parquet')").fetchall()]


class Firehose:
    """A Direct PUT stream into a bucket of its own; the events are the bucket's JSON lines."""

    def __init__(self, client):
        self.s3, self.firehose = client("s3"), client("firehose")
        self.name = self.bucket = f"serve-{uuid.uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.firehose.create_delivery_stream(
            DeliveryStreamName=self.name, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={"BucketARN": f"arn:aws:s3:::{self.bucket}",
                                                "RoleARN": "arn:aws:iam::123456789012:role/firehose"})

    def args(self):
        # A small buffer: the clients meet 429s and send again what was not taken.
        return ["--firehose", self.name, "--budget-mib", "2"]

    def messages(self, tmp_path):
        found = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                body = self.s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                found += [json.loads(line)["message"] for line in body.splitlines() if line.strip()]
        self.firehose.delete_delivery_stream(DeliveryStreamName=self.name)
        return found


class Kinesis:
    """A stream of 2 shards, read back and de-aggregated with AWS's own de-aggregator."""

    def __init__(self, client):
        self.kinesis = client("kinesis")
        self.name = f"serve-{uuid.uuid4().hex[:12]}"
        self.kinesis.create_stream(StreamName=self.name, ShardCount=2)
        self.kinesis.get_waiter("stream_exists").wait(StreamName=self.name)

    def args(self):
        # moto's PutRecords is not safe under concurrent calls (it loses records): one at a time.
        return ["--kinesis", self.name, "--max-in-flight", "1", "--budget-mib", "2"]

    def messages(self, tmp_path):
        from aws_kinesis_agg.deaggregator import iter_deaggregate_records
        found = []
        for shard in self.kinesis.list_shards(StreamName=self.name)["Shards"]:
            iterator = self.kinesis.get_shard_iterator(
                StreamName=self.name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while True:
                page = self.kinesis.get_records(ShardIterator=iterator, Limit=1000)
                for sub in iter_deaggregate_records(page["Records"], data_format="Boto3"):
                    data = sub["kinesis"]["data"]
                    if sub["kinesis"].get("aggregated"):
                        data = base64.b64decode(data)
                    found.append(json.loads(data)["message"])
                if not page["Records"]:
                    break
                iterator = page["NextShardIterator"]
        self.kinesis.delete_stream(StreamName=self.name)
        return found


class Bucket:
    """The direct path into a moto bucket; the objects downloaded and read with DuckDB."""

    def __init__(self, client):
        self.s3 = client("s3")
        self.bucket = f"serve-lake-{uuid.uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=self.bucket)

    def args(self):
        return ["--bucket", self.bucket]

    def messages(self, tmp_path):
        folder = tmp_path / "downloaded"
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                target = folder / item["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                self.s3.download_file(self.bucket, item["Key"], str(target))
        return parquet_messages(folder)


class Folder:
    """The direct path into a folder, read with DuckDB."""

    def __init__(self, tmp_path):
        self.root = tmp_path / "lake"

    def args(self):
        return ["--out", str(self.root)]

    def messages(self, tmp_path):
        return parquet_messages(self.root)


@pytest.mark.parametrize("destination", ["firehose", "kinesis", "bucket", "folder"])
def test_concurrent_clients_land_every_accepted_event_once_and_hear_every_rejection(destination, tmp_path):
    endpoint, env, client = moto()
    target = {"firehose": lambda: Firehose(client), "kinesis": lambda: Kinesis(client),
              "bucket": lambda: Bucket(client), "folder": lambda: Folder(tmp_path)}[destination]()
    lines, valid = mixed_events(EVENTS, destination)
    agent = Agent(tmp_path, *target.args(), "--endpoint-url", endpoint, env=env)
    try:
        started = time.monotonic()
        rejected, totals = run_clients(agent.url, lines, tmp_path)
        posted = time.monotonic() - started
        status, summary = agent.stop()
    finally:
        agent.kill()
    assert status == 0, agent.log.read_text()[-2000:]
    # Whether the small buffer turns requests away here depends on how fast moto drains it on
    # the machine (4 retried requests in one run, none in another): the retries are reported,
    # not required; 429 with Retry-After is held by the stalled-destination test below.
    assert totals["accepted"] == len(valid) and totals["rejected"] == EVENTS - len(valid)
    # Each rejected event answered with the codes `validate` gives it.
    assert rejected == validate_codes(lines, sorted(rejected), tmp_path)
    # The agent's summary accounts for every event (retries are events posted again).
    assert summary["accepted"] == summary["delivered"] == len(valid), summary
    assert summary["rejectedEvents"] == totals["rejected"], summary
    assert summary["events"] == summary["accepted"] + summary["rejectedEvents"] + summary["retry"]
    counts = collections.Counter(target.messages(tmp_path))
    assert set(counts) == valid, f"{len(valid - set(counts))} lost, {len(set(counts) - valid)} unexpected"
    duplicates = {m: n for m, n in counts.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} delivered twice"
    print(f"serve → {destination}: {EVENTS} events from {2 * PER_LANGUAGE} clients in {posted:.1f} s, "
          f"{len(valid)} delivered once, {totals['rejected']} rejected with validate's codes, "
          f"{totals['retries']} retried requests, {summary['apiCalls']} API calls")


def black_hole():
    """A TCP endpoint that accepts connections and never answers: a stalled destination."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    held = []

    def hold():
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return
    threading.Thread(target=hold, daemon=True).start()
    return server, f"http://127.0.0.1:{server.getsockname()[1]}"


def rss_kib(pid, field):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def test_a_stalled_destination_gets_429_with_retry_after_and_memory_stays_in_budget(tmp_path):
    _, env, _ = moto()
    server, endpoint = black_hole()
    budget_mib, body_kib, requests = 16, 1024, 4
    agent = Agent(tmp_path, "--firehose", "stalled", "--endpoint-url", endpoint, "--budget-mib", str(budget_mib),
                  "--max-body-kib", str(body_kib), "--max-requests", str(requests), "--retry-after", "3",
                  "--wait-for-room-ms", "200", env=env)
    try:
        idle = rss_kib(agent.process.pid, "VmRSS")
        lines, _ = mixed_events(400, "stalled")
        body = ("\n".join(line for line in lines if line.endswith("}")) + "\n").encode()
        statuses = collections.Counter()
        retry_after = set()
        accepted = 0
        at_first_429 = None
        # Posted until the buffer is full, then on: every later request is turned away.
        for _ in range(200):
            status, headers, answer = request(agent.url + "/v1/events", body,
                                              headers={"Content-Type": "application/x-ndjson"})
            statuses[status] += 1
            if status == 429:
                retry_after.add(headers["Retry-After"])
                assert all(e["status"] in ("accepted", "retry", "rejected") for e in answer["events"])
                at_first_429 = at_first_429 or rss_kib(agent.process.pid, "VmRSS")
            accepted += answer["accepted"]
            if statuses[429] >= 50:
                break
        peak = rss_kib(agent.process.pid, "VmHWM")
        last = rss_kib(agent.process.pid, "VmRSS")
    finally:
        agent.kill()
        server.close()
    assert statuses[429] >= 50 and retry_after == {"3"}, statuses
    assert set(statuses) == {422, 429}, "the body's rejected events make 422 until the buffer is full"
    buffered = accepted * len(body) / 400 / 2**20
    # Accepted until the budget was full: the producer's buffer holds about the budget.
    assert budget_mib * 0.5 < buffered < budget_mib * 1.5, buffered
    # Memory above idle: the buffer's budget (events as encoded), the calls in flight (their
    # records copied, then base64 in the request: 4 calls of up to 4 MiB), the bodies being read;
    # and turning requests away does not grow it.
    bodies_mib = requests * body_kib / 1024
    bound_mib = budget_mib * 2 + 4 * 4 * 2 + bodies_mib * 4
    grown = (peak - idle) / 1024
    print(f"stalled destination: {dict(statuses)}, {accepted} events accepted ({buffered:.1f} MiB), "
          f"RSS idle {idle / 1024:.0f} MiB, at the first 429 {at_first_429 / 1024:.0f} MiB, after 50 of them "
          f"{last / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB (+{grown:.0f} MiB, bound {bound_mib:.0f})")
    assert grown < bound_mib
    assert (last - at_first_429) / 1024 < bodies_mib * 2, "requests turned away hold no memory"


def test_token_body_limit_and_malformed_json(tmp_path):
    build()
    env = dict(os.environ, OCSF_FIREHOSE_TOKEN="s3cret")
    agent = Agent(tmp_path, "--out", str(tmp_path / "lake"), "--max-body-kib", "64", env=env)
    events = "/v1/events"
    good = FIXTURES[0].read_text().replace("\n", " ")
    auth = {"Authorization": "Bearer s3cret", "Content-Type": "application/x-ndjson"}
    try:
        assert request(agent.url + events, good.encode())[0] == 401
        status, headers, _ = request(agent.url + events, good.encode(), headers={"Authorization": "Bearer nope"})
        assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
        assert request(agent.url + "/metrics", method="GET")[0] == 401
        assert request(agent.url + "/healthz", method="GET")[:3:2] == (200, {"status": "ok"})
        # Malformed JSON: its finding with the offset in the body; the events around it judged.
        body = f"{good}\n{{\"class_uid\": 3002, \"time\": tru}}\n{good}\n".encode()
        status, _, answer = request(agent.url + events, body, headers=auth)
        assert status == 422, answer
        assert [e["status"] for e in answer["events"]] == ["accepted", "rejected", "accepted"]
        finding = answer["events"][1]["findings"][0]
        # The parser stops at the `}` after `tru`.
        offset = len(good) + 1 + len('{"class_uid": 3002, "time": tru')
        assert finding["code"] == "json_invalid" and f"at byte {offset}" in finding["message"], finding
        # A JSON array: the same, each element on its own.
        array = f"[{good}, {{\"a\": }}, {good}]".encode()
        status, _, answer = request(agent.url + events, array,
                                    headers={**auth, "Content-Type": "application/json"})
        assert [e["status"] for e in answer["events"]] == ["accepted", "rejected", "accepted"], answer
        # Over the limit, declared or inflated.
        big = ("\n".join([good] * 200)).encode()
        assert len(big) > 64 * 1024
        status, _, answer = request(agent.url + events, big, headers=auth)
        assert status == 413 and answer["error"] == "body_too_large"
        status, _, answer = request(agent.url + events, gzip.compress(big),
                                    headers={**auth, "Content-Encoding": "gzip"})
        assert status == 413 and len(gzip.compress(big)) < 64 * 1024
        assert request(agent.url + events, b"{}", headers={**auth, "Content-Type": "text/csv"})[0] == 415
        assert request(agent.url + events, method="GET", headers=auth)[0] == 405
        assert request(agent.url + "/nope", method="GET", headers=auth)[0] == 404
        status, _, text = request(agent.url + "/metrics", method="GET", headers=auth)
        assert status == 200 and "ocsf_producer_events_accepted 4" in text, text
        assert 'ocsf_serve_requests{status="413"} 2' in text
    finally:
        status, summary = agent.stop()
    assert status == 0 and summary["accepted"] == summary["delivered"] == 4, summary
    assert summary["rejected"] == {"json_invalid": 2}
    assert len(parquet_messages(tmp_path / "lake")) == 4


def test_tls_and_wait_for_delivery(tmp_path):
    """HTTPS with a certificate and key given as PEM; `?wait=delivered` answers once the object
    is stored (`--buffer-seconds 1`)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    agent = Agent(tmp_path, "--out", str(tmp_path / "lake"), "--tls-cert", str(tmp_path / "cert.pem"),
                  "--tls-key", str(tmp_path / "key.pem"), "--buffer-seconds", "1")
    try:
        assert agent.url.startswith("https://")
        url = agent.url.replace("127.0.0.1", "localhost")
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        body = "\n".join(FIXTURES[i].read_text().replace("\n", " ") for i in range(3)).encode()
        status, _, answer = request(url + "/v1/events?wait=delivered", body, context=context,
                                    headers={"Content-Type": "application/x-ndjson"})
        assert status == 200 and answer["delivered"] == 3, answer
        assert len(parquet_messages(tmp_path / "lake")) == 3, "stored before the answer"
        with pytest.raises(urllib.error.URLError):
            request(url + "/healthz", method="GET")  # the certificate is not trusted by default
    finally:
        status, _ = agent.stop()
    assert status == 0


def test_the_curl_example_posts_a_file(tmp_path):
    lines, valid = mixed_events(40, "curl")
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(line for line in lines if line.endswith("}") and '"very"' not in line) + "\n")
    agent = Agent(tmp_path, "--out", str(tmp_path / "lake"))
    try:
        run = subprocess.run([str(CLIENTS / "curl" / "post-events.sh"), str(path), agent.url],
                             capture_output=True, text=True, timeout=60)
    finally:
        status, summary = agent.stop()
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["accepted"] == len(valid) == summary["delivered"]
    assert sorted(parquet_messages(tmp_path / "lake")) == sorted(valid)


def test_a_killed_agent_with_a_spool_delivers_what_it_accepted_when_started_again(tmp_path):
    """`--spool`: events accepted while the destination stalled, the agent killed (SIGKILL), then
    started again with the same spool and a working destination: every accepted event lands."""
    endpoint, env, client = moto()
    server, stalled = black_hole()
    spool = tmp_path / "spool"
    lines, valid = mixed_events(300, "spooled")
    body = ("\n".join(line for line in lines if line.endswith("}")) + "\n").encode()
    agent = Agent(tmp_path, "--firehose", "stalled", "--endpoint-url", stalled, "--spool", str(spool), env=env)
    try:
        status, _, answer = request(agent.url + "/v1/events", body, headers={"Content-Type": "application/x-ndjson"})
    finally:
        agent.kill()
        server.close()
    assert status == 422 and answer["accepted"] == len(valid), answer
    stream = Firehose(client)
    again = Agent(tmp_path, *stream.args(), "--endpoint-url", endpoint, "--spool", str(spool), env=env)
    status, summary = again.stop()
    assert status == 0 and summary["replayed"] == summary["delivered"] == len(valid), summary
    assert sorted(stream.messages(tmp_path)) == sorted(valid)


def test_events_that_cannot_be_delivered_make_the_agent_exit_2_with_their_code(tmp_path):
    endpoint, env, _ = moto()
    agent = Agent(tmp_path, "--firehose", "no-such-stream", "--endpoint-url", endpoint, env=env)
    body = FIXTURES[0].read_text().replace("\n", " ").encode()
    try:
        status, _, answer = request(agent.url + "/v1/events?wait=delivered", body)
    finally:
        code, summary = agent.stop()
    assert status == 502 and answer["events"][0]["status"] == "failed", answer
    assert answer["events"][0]["code"] == "not_found"
    # Failed while the request waited: its answer had it; the summary counts it all the same.
    assert code == 2 and summary["notDelivered"] == {"not_found": 1}, summary
