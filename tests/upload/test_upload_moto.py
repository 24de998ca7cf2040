"""`ocsf-firehose upload` into a moto S3 server (MOTO_ENDPOINT, started by scripts/test): 20,000
demo events (4 classes, 3 AWS accounts and `external`, 3 regions, 3 days), the objects downloaded
and read back with pyarrow and DuckDB. Every valid event lands exactly once, in an object of its
class and partition with rows sorted by time, zstd; every invalid event is reported with its codes.

Run from the repository root (scripts/test does).
"""
import json
import re
import subprocess
import uuid

import duckdb
import pyarrow.parquet as pq
import pytest

from ocsf_cli import BINARY, DEMO_SOURCES, build
from ocsf_cli import moto as moto_server

EVENTS = 20_000
KEY = re.compile(r"^ext/(?P<source>[a-z-]+)/region=(?P<region>[a-z0-9-]+)/accountId=(?P<account>\d{12}|external)"
                 r"/eventDay=(?P<day>\d{8})/[0-9a-f]{32}(-\d+)?\.zstd\.parquet$")
SOURCES = DEMO_SOURCES


@pytest.fixture(scope="module")
def moto():
    endpoint, env, client = moto_server()
    return endpoint, env, client("s3")


@pytest.fixture(scope="module")
def uploaded(moto, tmp_path_factory):
    endpoint, env, s3 = moto
    build()
    work = tmp_path_factory.mktemp("upload")
    events = work / "events.jsonl"
    events.write_bytes(subprocess.run([str(BINARY), "demo", str(EVENTS), "--seed", "7"], check=True,
                                      capture_output=True).stdout)
    bucket = f"lake-upload-{uuid.uuid4().hex[:12]}"  # moto's state outlives a test run
    s3.create_bucket(Bucket=bucket)
    run = subprocess.run([str(BINARY), "upload", str(events), "--bucket", bucket, "--endpoint-url", endpoint,
                          "--region", "us-east-1", "--json"], env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 1, run.stderr  # some events are invalid
    summary = json.loads(run.stdout)
    lake = work / "lake"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            path = lake / item["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(path))
    return summary, run.stderr, lake, events


def test_every_event_is_accounted_for_and_invalid_ones_are_reported_with_their_codes(uploaded):
    summary, stderr, _, _ = uploaded
    assert summary["events"] == EVENTS
    assert summary["events"] == summary["rejectedEvents"] + summary["delivered"] + sum(summary["notDelivered"].values())
    assert summary["notDelivered"] == {}
    reports = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert len(reports) == summary["rejectedEvents"] > 0
    assert all(r["codes"] and r["line"] >= 1 for r in reports)
    assert summary["rejected"].keys() >= {"json_invalid", "attribute_wrong_type"}


def test_keys_follow_the_security_lake_layout_one_class_per_object_sorted_zstd(uploaded):
    summary, _, lake, _ = uploaded
    files = sorted(p for p in lake.rglob("*") if p.is_file())
    assert len(files) == summary["objects"] > 0
    for path in files:
        key = path.relative_to(lake).as_posix()
        match = KEY.match(key)
        assert match, key
        parquet = pq.ParquetFile(path)
        # zstd for every column with values; a column without any value has no codec.
        group = parquet.metadata.row_group(0)
        codecs = {group.column(i).path_in_schema: group.column(i).compression for i in range(group.num_columns)}
        assert codecs["class_uid"] == codecs["time"] == "ZSTD", key
        assert set(codecs.values()) <= {"ZSTD", "UNCOMPRESSED"}, key
        table = parquet.read(columns=["class_uid", "time", "cloud"])
        assert set(table.column("class_uid").to_pylist()) == {SOURCES[match["source"]]}, key
        times = table.column("time").to_pylist()
        assert times == sorted(times), key


def test_duckdb_finds_every_valid_event_exactly_once_in_its_partition(uploaded):
    summary, _, lake, events = uploaded
    valid = {}
    for line in events.read_bytes().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if "metadata" in event:  # the demo's events without metadata are invalid
            valid[event["metadata"]["uid"]] = event
    rows = duckdb.sql(f"""
        select metadata.uid as uid, regexp_extract(filename, '/ext/([^/]+)/', 1) as source,
               region, accountId, eventDay, time
        from read_parquet('{lake}/ext/*/*/*/*/*.parquet', hive_partitioning = true, filename = true,
                          union_by_name = true)""").fetchall()
    uids = [r[0] for r in rows]
    assert len(uids) == len(set(uids)) == summary["delivered"], "exactly once"
    assert set(uids) <= set(valid), "only events that were sent"
    for uid, source, region, account, day, time in rows[:2000]:
        event = valid[uid]
        assert event["cloud"]["region"] == region
        assert str(event["time"]) == str(time)
    per_partition = {}
    for _, source, region, account, day, _ in rows:
        key = f"ext/{source}/region={region}/accountId={account}/eventDay={day}"
        per_partition[key] = per_partition.get(key, 0) + 1
    assert per_partition == summary["rows"]


def test_a_dry_run_stores_nothing(moto, tmp_path):
    endpoint, env, s3 = moto
    build()
    events = tmp_path / "events.jsonl"
    events.write_bytes(subprocess.run([str(BINARY), "demo", "500"], check=True, capture_output=True).stdout)
    bucket = f"lake-dry-run-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    run = subprocess.run([str(BINARY), "upload", str(events), "--bucket", bucket, "--endpoint-url", endpoint,
                          "--dry-run", "--json"], env=env, capture_output=True, text=True, timeout=300)
    summary = json.loads(run.stdout)
    assert summary["dryRun"] and summary["objects"] > 0
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
