"""The local pipeline's Parquet read by the tools Security Lake users query with: DuckDB (hive
partitioning from the directory names) and pyarrow. Runs `ocsf-firehose local --demo` (the
debug binary that `cargo test` built) into a temporary directory.

Run from the repository root (scripts/test does).
"""
import json
import pathlib
import subprocess

import duckdb
import pyarrow.parquet as pq
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EVENTS = 3000


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    subprocess.run(["cargo", "build", "--quiet", "--bin", "ocsf-firehose"], cwd=ROOT, check=True)
    out = tmp_path_factory.mktemp("lake")
    run = subprocess.run(
        [str(ROOT / "target" / "debug" / "ocsf-firehose"), "local", "--demo", str(EVENTS), "--seed", "5",
         "--out", str(out), "--json"],
        capture_output=True, text=True, check=True, timeout=600,
    )
    return out, json.loads(run.stdout)


def test_duckdb_counts_match_the_summary_per_partition(lake):
    out, summary = lake
    rows = duckdb.sql(
        f"""select regexp_extract(filename, '/ext/([^/]+)/', 1) as source, region, accountId, eventDay,
                   count(*) as n
            from read_parquet('{out}/ext/*/*/*/*/*.parquet', hive_partitioning = true, filename = true,
                              union_by_name = true)
            group by all"""
    ).fetchall()
    counted = {f"ext/{s}/region={r}/accountId={a}/eventDay={d}": n for s, r, a, d, n in rows}
    assert counted == summary["rows"]
    assert sum(counted.values()) == summary["ok"]
    # Every event accounted for: refused at send by the producer, or de-aggregated into one
    # record each for the Lambda.
    assert summary["events"] == EVENTS == sum(summary["refused"].values()) + summary["sent"]
    assert summary["records"] == summary["sent"] == summary["ok"] + summary["failed"] + summary["dropped"]
    assert summary["recordsIn"] < summary["sent"], "the producer aggregates"


def test_duckdb_reads_nested_columns_and_json_text(lake):
    out, _ = lake
    auth = f"{out}/ext/authentication/*/*/*/*.parquet"
    row = duckdb.sql(
        f"""select count(*), count(distinct metadata.uid), min(class_name), max(type_uid),
                   count(*) filter (where user.name like 'user%')
            from read_parquet('{auth}', hive_partitioning = true)"""
    ).fetchall()[0]
    total, distinct_uids, class_name, type_uid, named = row
    assert total == distinct_uids > 0
    assert class_name == "Authentication"
    assert type_uid in (300201, 300299, 300202)
    assert named == total
    days = {str(r[0]) for r in duckdb.sql(
        f"select distinct eventDay from read_parquet('{auth}', hive_partitioning = true)").fetchall()}
    assert days <= {"20261125", "20261126", "20261127"} and len(days) == 3


def test_pyarrow_sees_files_as_firehose_writes_them_sorted_by_time(lake):
    out, _ = lake
    defaults = json.loads((ROOT / "infra" / "defaults.json").read_text())
    files = sorted(pathlib.Path(out, "ext").rglob("*.parquet"))
    assert files
    for path in files[:20]:
        parquet = pq.ParquetFile(path)
        meta = parquet.metadata
        assert meta.format_version == "1.0", "ParquetSerDe writer V1"
        group = meta.row_group(0)
        codecs = {group.column(i).compression for i in range(group.num_columns)}
        assert codecs == {defaults["parquetCompression"]}
        times = parquet.read(columns=["time"]).column("time").to_pylist()
        assert times == sorted(times)
        schema = parquet.schema_arrow
        assert str(schema.field("time").type) == "int64"
        assert str(schema.field("unmapped").type) == "string"
        assert path.name.startswith("ocsf-") and "-1-20" in path.name
