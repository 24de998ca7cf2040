"""`ocsf-firehose redrive`: records that failed under a strict Lambda configuration come back once
the configuration is relaxed, each exactly once.

A corpus of demo events goes through the local pipeline twice: once strict (only Authentication
allowed: every other class fails with `class_not_allowed`) and once relaxed, as the reference of
what should land. Redrive, relaxed, must re-send exactly the records the reference accepted and the
strict run did not; the records that fail either way stay reported with the reference's codes.

- local: the strict run's `errors/` → the local pipeline, and → the direct path (Security Lake
  objects written straight into the sources' locations); DuckDB reads the lakes back.
- moto: the error documents in a moto S3 bucket (split into objects of 50 documents, as Firehose
  writes one object per buffer) → moto Firehose streams, one per source (`{source}`); the
  delivered records are read back from the streams' bucket with boto3.

A second redrive sends nothing new; `--delete-redriven` deletes exactly the objects with no record
that still fails.

Run from the repository root (scripts/test does).
"""
import base64
import json
import subprocess
import uuid

import duckdb
import pytest
from aws_kinesis_agg.deaggregator import iter_deaggregate_records

from ocsf_cli import BINARY, DEMO_SOURCES, build
from ocsf_cli import moto as moto_server

EVENTS = 3000
STRICT = ["--class-uid", "3002"]
SOURCES = DEMO_SOURCES


def cli(*args, env=None):
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=600, env=env)


def summary_of(run):
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def reports_of(run):
    return [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]


def error_documents(root):
    """Every error document under `root/errors`, with the object it is in."""
    documents = []
    for path in sorted((root / "errors").rglob("*")):
        if path.is_file():
            for line in path.read_text().splitlines():
                if line.strip():
                    documents.append((path.relative_to(root).as_posix(), json.loads(line)))
    return documents


def lake_uids(root):
    return [row[0] for row in duckdb.sql(
        f"select metadata.uid from read_parquet('{root}/ext/*/*/*/*/*.parquet', union_by_name = true)"
    ).fetchall()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The demo events, their strict local run and the relaxed reference run."""
    build()
    work = tmp_path_factory.mktemp("redrive")
    events = work / "events.jsonl"
    events.write_bytes(subprocess.run([str(BINARY), "demo", str(EVENTS), "--seed", "11"], check=True,
                                      capture_output=True).stdout)
    strict, reference = work / "strict", work / "reference"
    strict_run = summary_of(cli("local", str(events), "--out", str(strict), *STRICT, "--json"))
    reference_run = summary_of(cli("local", str(events), "--out", str(reference), "--json"))
    assert strict_run["failures"]["class_not_allowed"] > 1000
    # What the reference could not take, by the record's bytes; what redrive must bring.
    failing = {document["rawData"] for _, document in error_documents(reference)}
    expected = set(lake_uids(reference)) - set(lake_uids(strict))
    return strict, reference, reference_run, failing, expected


def test_redrive_into_the_local_pipeline_lands_exactly_what_the_relaxed_run_landed(corpus):
    strict, reference, reference_run, failing, expected = corpus
    before = lake_uids(strict)

    dry = cli("redrive", "--dir", str(strict), "--local", str(strict), "--dry-run", "--json")
    summary = summary_of(dry)
    assert dry.returncode == 1, "some records still fail"
    assert summary["documents"] == summary["passing"] + summary["stillFailing"] + summary["unreadableDocuments"]
    assert summary["passing"] == summary["wouldSend"] == len(expected)
    assert summary["stillFailing"] == len(failing) == len(reports_of(dry))
    # The records that still fail fail for the reference's reasons (the refused-at-send events,
    # which never reached the Lambda, are not JSON).
    codes = dict(reference_run["failures"])
    codes["json_invalid"] = codes.get("json_invalid", 0) + sum(reference_run["refused"].values())
    assert summary["failing"] == codes
    assert lake_uids(strict) == before and not (strict / "redrive-ledger").exists(), "a dry run changes nothing"

    first = summary_of(cli("redrive", "--dir", str(strict), "--local", str(strict), "--json"))
    assert first["sent"] == len(expected) and first["notDelivered"] == {} and first["ledger"]
    after = lake_uids(strict)
    assert len(after) == len(set(after)), "no event twice"
    assert set(after) == set(before) | expected
    assert sorted(after) == sorted(lake_uids(reference)), "the lake the relaxed run would have written"

    files = sorted(p for p in (strict / "ext").rglob("*.parquet"))
    second = summary_of(cli("redrive", "--dir", str(strict), "--local", str(strict), "--json"))
    assert second["sent"] == 0 and second["ledger"] is None
    assert second["alreadyRedriven"] == first["sent"]
    assert sorted(p for p in (strict / "ext").rglob("*.parquet")) == files, "nothing new written"


def test_redrive_straight_into_the_sources_locations_writes_each_passing_record_once(corpus, tmp_path):
    strict, _, _, _, expected = corpus
    direct = tmp_path / "direct"
    run = cli("redrive", "--dir", str(strict), "--lake-dir", str(direct), "--ledger-prefix", "direct-ledger/",
              "--json")
    summary = summary_of(run)
    assert summary["sent"] == len(expected) and summary["notDelivered"] == {}
    uids = lake_uids(direct)
    assert len(uids) == len(set(uids)) and set(uids) == expected
    classes = duckdb.sql(f"""select distinct regexp_extract(filename, '/ext/([^/]+)/', 1), class_uid
        from read_parquet('{direct}/ext/*/*/*/*/*.parquet', filename = true, union_by_name = true)""").fetchall()
    assert all(SOURCES[source] == class_uid for source, class_uid in classes), "one class per source"


@pytest.fixture(scope="module")
def moto():
    endpoint, env, client = moto_server()
    return endpoint, env, client


def keys(s3, bucket, prefix=""):
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(found)


def delivered(s3, bucket):
    """Every event the streams delivered, with the source whose stream delivered it."""
    events = []
    for key in keys(s3, bucket):
        source = key.split("/", 1)[0]
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        events.extend((source, json.loads(line)) for line in body.splitlines() if line.strip())
    return events


def test_redrive_from_moto_s3_into_moto_firehose_sends_each_passing_record_once(corpus, moto):
    strict, _, _, failing, expected = corpus
    endpoint, env, client = moto
    s3, firehose = client("s3"), client("firehose")
    run_id = uuid.uuid4().hex[:8]  # moto's state outlives a test run
    errors, lake = f"redrive-errors-{run_id}", f"redrive-lake-{run_id}"
    s3.create_bucket(Bucket=errors)
    s3.create_bucket(Bucket=lake)
    # The strict run's error documents, 50 per object.
    objects = {}
    for key, document in error_documents(strict):
        objects.setdefault(key.rsplit("/", 1)[0], []).append(document)
    uploaded = {}
    for folder, documents in objects.items():
        for start in range(0, len(documents), 50):
            key = f"{folder}/part-{start // 50:04d}"
            chunk = documents[start:start + 50]
            s3.put_object(Bucket=errors, Key=key, Body="".join(json.dumps(d) + "\n" for d in chunk).encode())
            uploaded[key] = chunk
    for source in SOURCES:
        firehose.create_delivery_stream(
            DeliveryStreamName=f"redrive-{run_id}-{source}", DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": f"arn:aws:s3:::{lake}",
                "Prefix": f"{source}/", "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
            },
        )
    redrive = ["redrive", "--bucket", errors, "--endpoint-url", endpoint, "--firehose", f"redrive-{run_id}-{{source}}",
               "--json"]

    first_run = cli(*redrive, env=env)
    first = summary_of(first_run)
    assert first["sent"] == len(expected) and first["notDelivered"] == {}
    assert first["stillFailing"] == len(failing)
    sent = delivered(s3, lake)
    uids = [event["metadata"]["uid"] for _, event in sent]
    assert len(uids) == len(set(uids)) == len(expected), "each passing record once"
    assert set(uids) == expected
    assert all(event["class_uid"] == SOURCES[source] for source, event in sent), "each into its source's stream"

    lake_objects = keys(s3, lake)
    second = summary_of(cli(*redrive, env=env))
    assert second["sent"] == 0 and second["alreadyRedriven"] == first["sent"]
    assert keys(s3, lake) == lake_objects, "a second redrive sends nothing"

    clean = {key for key, chunk in uploaded.items() if not any(d["rawData"] in failing for d in chunk)}
    assert 0 < len(clean) < len(uploaded)
    third = summary_of(cli(*redrive, "--delete-redriven", env=env))
    assert third["sent"] == 0 and third["deletedObjects"] == len(clean)
    remaining = set(keys(s3, errors, "errors/"))
    assert remaining == set(uploaded) - clean, "only objects whose every record was delivered are deleted"
    assert len(keys(s3, errors, "redrive-ledger/")) == 1


def test_redrive_into_a_kinesis_stream_sends_each_passing_record_once(corpus, moto):
    strict, _, _, _, expected = corpus
    endpoint, env, client = moto
    s3, kinesis = client("s3"), client("kinesis")
    run_id = uuid.uuid4().hex[:8]
    errors, stream = f"redrive-kinesis-{run_id}", f"redrive-{run_id}"
    s3.create_bucket(Bucket=errors)
    documents = [document for _, document in error_documents(strict)]
    for start in range(0, len(documents), 200):  # one prefix of any layout: no {source} needed
        body = "".join(json.dumps(d) + "\n" for d in documents[start:start + 200]).encode()
        s3.put_object(Bucket=errors, Key=f"errors/part-{start:05d}", Body=body)
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    # Aggregated, as in production (KPL records, read back with AWS's de-aggregator). One event
    # per record would be many concurrent PutRecords, and moto's shards can lose one of two
    # records put at the same instant (their sequence numbers race).
    run = cli("redrive", "--bucket", errors, "--endpoint-url", endpoint, "--kinesis", stream, "--json", env=env)
    summary = summary_of(run)
    assert summary["sent"] == len(expected) and summary["notDelivered"] == {}
    uids = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while True:
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            for sub in iter_deaggregate_records(page["Records"], data_format="Boto3"):
                data = sub["kinesis"]["data"]
                if sub["kinesis"].get("aggregated"):
                    data = base64.b64decode(data)
                uids.append(json.loads(data)["metadata"]["uid"])
            if not page["Records"]:
                break
            iterator = page["NextShardIterator"]
    assert len(uids) == len(set(uids)) and set(uids) == expected
