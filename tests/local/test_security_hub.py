"""The Security Hub preset end to end, locally: Security Hub's OCSF 1.6 findings (one per finding
class, with the AWS extension's `cloud_resources` attributes; tests/fixtures/securityhub/, built
from the Security Hub guide's examples) arrive as EventBridge "Findings Imported V2" events; each
class's rule (the preset's pattern) takes its events and hands on `detail.findings[0]` (the
preset's input path); `ocsf-firehose local` with the preset's Lambda configuration (target
release, allowed class, source names) lands them, and pyarrow and DuckDB read them back from the
class's own source, with their resource attributes.

Run from the repository root (scripts/test does).
"""
import json

import duckdb
import pyarrow.parquet as pq
import pytest

from ocsf_cli import ROOT, build, cli, glue_ddl

PRESET = json.loads((ROOT / "infra" / "presets" / "security-hub.json").read_text())
FINDINGS = sorted((ROOT / "tests" / "fixtures" / "securityhub").glob("*.json"))


def eventbridge_event(finding):
    """The event Security Hub sends for one finding (its EventBridge event format)."""
    return {
        "version": "0",
        "id": finding["metadata"]["uid"],
        "detail-type": "Findings Imported V2",
        "source": "aws.securityhub",
        "account": finding["cloud"]["account"]["uid"],
        "time": "2025-11-05T12:00:00Z",
        "region": finding["cloud"]["region"],
        "resources": [],
        "detail": {"findings": [finding]},
    }


def rule_matches(class_uid, event):
    """The preset's event pattern for `class_uid`, as EventBridge matches it (an array matches when
    one of its elements does)."""
    return (
        event["source"] == PRESET["eventSource"]
        and event["detail-type"] == PRESET["detailType"]
        and any(f.get("class_uid") == class_uid for f in event["detail"]["findings"])
    )


def input_path(path, event):
    """EventBridge's input path: `$.a.b[0]` steps through keys and list indexes."""
    value = event
    for step in path.removeprefix("$.").split("."):
        key, _, index = step.partition("[")
        value = value[key]
        if index:
            value = value[int(index.rstrip("]"))]
    return value


def present(value):
    """A Parquet struct value without the fields the row leaves null."""
    if isinstance(value, dict):
        return {k: present(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [present(v) for v in value]
    return value


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    build()
    work = tmp_path_factory.mktemp("security-hub")
    findings = [json.loads(p.read_text()) for p in FINDINGS]
    # What each class's delivery stream receives: the finding its rule's input path hands on.
    records = []
    for c in PRESET["classes"]:
        for event in map(eventbridge_event, findings):
            if rule_matches(c["classUid"], event):
                records.append(input_path(PRESET["findingPath"], event))
    assert [r["class_uid"] for r in records] == [c["classUid"] for c in PRESET["classes"]]
    events = work / "findings.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in records))
    args = ["local", str(events), "--out", str(work / "lake"), "--json", "--no-aggregation",
            "--ocsf-version", PRESET["ocsfVersion"]]
    for c in PRESET["classes"]:
        args += ["--class-uid", str(c["classUid"]), "--source", f"{c['classUid']}={c['sourceName']}"]
    summary = json.loads(cli(*args))
    return work / "lake", summary, {r["class_uid"]: r for r in records}


def test_every_finding_lands_ok(landed):
    _, summary, records = landed
    assert summary["events"] == summary["ok"] == len(records) == 4
    assert summary["failed"] == summary["dropped"] == 0


@pytest.mark.parametrize("preset_class", PRESET["classes"], ids=lambda c: c["sourceName"])
def test_each_class_lands_in_its_own_source_and_partition(landed, preset_class):
    lake, _, records = landed
    finding = records[preset_class["classUid"]]
    day = {2002: "20251102", 2003: "20251103", 2004: "20251101", 2006: "20251104"}[preset_class["classUid"]]
    partition = (lake / "ext" / preset_class["sourceName"] / f"region={finding['cloud']['region']}"
                 / f"accountId={finding['cloud']['account']['uid']}" / f"eventDay={day}")
    files = sorted(partition.glob("*.parquet"))
    assert len(files) == 1, sorted(p.relative_to(lake) for p in lake.rglob("*.parquet"))
    table = pq.read_table(files[0], partitioning=None)
    assert table.num_rows == 1
    row = table.to_pylist()[0]
    assert row["class_uid"] == preset_class["classUid"]
    assert row["metadata"]["version"] == PRESET["ocsfVersion"]
    # The resource attributes: in their column where the release has one, else under `unmapped`
    # by path (as JSON text for objects and lists) - the AWS extension's objects always there.
    resource, given, unmapped = row["resources"][0], finding["resources"][0], dict(row["unmapped"])
    for name, value in given.items():
        key = f"resources[0].{name}"
        if key in unmapped:
            text = unmapped[key]
            assert (json.loads(text) if isinstance(value, (dict, list)) else text) == value, name
        else:
            assert present(resource[name]) == value, name
    for extension in ("device", "network_interface"):
        assert (f"resources[0].{extension}" in unmapped) == (extension in given)
    assert "cloud_resources" not in row["metadata"]["profiles"]


def test_duckdb_finds_the_instance_profile_of_the_detection_finding(landed):
    lake, _, _ = landed
    [(arn,)] = duckdb.sql(
        f"""select json_extract_string(unmapped['resources[0].device'], '$.instance_profile.uid_alt')
            from read_parquet('{lake}/ext/sh-detection/*/*/*/*.parquet', hive_partitioning = true)"""
    ).fetchall()
    assert arn == "arn:aws:iam::012345678999:instance-profile/generated"


def test_spark_reads_each_source_with_its_glue_ddl_by_position(landed, spark):
    """Spark (as Athena) matches struct fields by position: the resource's nested values come back
    where the class's 1.3.0 Glue DDL declares them."""
    lake, _, records = landed
    for c in PRESET["classes"]:
        finding = records[c["classUid"]]
        frame = spark.read.schema(glue_ddl(c["classUid"], PRESET["ocsfVersion"])).parquet(
            f"{lake}/ext/{c['sourceName']}/*/*/*/*.parquet")
        [row] = frame.selectExpr(
            "class_uid", "cloud.region as region", "resources[0].type as type",
            "resources[0].owner.account.uid as owner", "unmapped['resources[0].uid_alt'] as arn").collect()
        resource = finding["resources"][0]
        assert (row.class_uid, row.region, row.type, row.owner, row.arn) == (
            c["classUid"], finding["cloud"]["region"], resource["type"],
            resource["owner"]["account"]["uid"], resource["uid_alt"])
