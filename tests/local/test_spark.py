"""The local pipeline's Parquet read as Athena reads a Security Lake source: Apache Spark with the
table's explicit Hive schema from `ocsf-firehose glue-schema --format hive` (the Glue DDL), and a
UNION ALL with a table typed like Security Lake's own sources (`time_dt timestamp`,
`unmapped map<string,string>`) that needs no cast. Needs Java (scripts/test checks for it).
"""
import datetime
import json

import pytest

from ocsf_cli import DEMO_SOURCES, ROOT, cli, glue_ddl


def test_spark_reads_every_source_with_its_glue_schema(lake, spark):
    out, summary = lake
    for source, class_uid in [("authentication", 3002), ("api-activity", 6003),
                              ("network-activity", 4001), ("detection-finding", 2004)]:
        frame = spark.read.schema(glue_ddl(class_uid)).parquet(f"{out}/ext/{source}/*/*/*/*.parquet")
        expected = sum(n for partition, n in summary["rows"].items() if f"/ext/{source}/" in f"/{partition}")
        assert frame.count() == expected > 0, source
        assert frame.filter(f"class_uid != {class_uid}").count() == 0
        assert dict(frame.dtypes)["unmapped"] == "map<string,string>"
        assert dict(frame.dtypes)["time_dt"] == "timestamp"


def test_a_union_with_a_native_table_selects_time_dt_and_unmapped_keys_without_casts(lake, spark):
    out, _ = lake
    ours = spark.read.schema(glue_ddl(6003)).parquet(f"{out}/ext/api-activity/*/*/*/*.parquet")
    ours.createOrReplaceTempView("ours")
    native = spark.createDataFrame(
        [(datetime.datetime(2023, 4, 28, 12, 0, tzinfo=datetime.timezone.utc),
          {"requestParameters.bucketName": "native-bucket"}, 6003, 1682683200000)],
        "time_dt timestamp, unmapped map<string,string>, class_uid int, time bigint")
    native.createOrReplaceTempView("native")
    rows = spark.sql("""
        select time_dt, unmapped['requestParameters.bucketName'] as bucket, time from (
            select time_dt, unmapped, class_uid, time from ours
            union all
            select time_dt, unmapped, class_uid, time from native)
        """).collect()
    assert {r.bucket for r in rows} == {"demo-bucket", "native-bucket"}
    assert all(int(r.time_dt.timestamp() * 1000) == r.time for r in rows), "time_dt is time"


# Security Lake's native declaration of `observables` (AWS's Security Insights solution declares
# it so for cloud_trail_mgmt_2_0, sh_findings_2_0 and vpc_flow_2_0): Spark, like Athena, matches
# struct fields by position in a UNION ALL.
NATIVE_OBSERVABLES = "array<struct<name:string,value:string,type:string,type_id:int>>"


def test_a_union_with_native_observables_takes_the_whole_struct_column_without_casts(
        lake, spark, tmp_path):
    out, _ = lake
    native = spark.createDataFrame(
        [([("src_endpoint.ip", "192.0.2.1", "IP Address", 2)],)], f"observables {NATIVE_OBSERVABLES}")
    native.createOrReplaceTempView("native_observables")
    # The demo's events carry no observables; the fixture finding does.
    cli("local", str(ROOT / "tests/fixtures/events/detection_finding.json"), "--out", str(tmp_path))
    lakes = [(out, source, class_uid) for source, class_uid in DEMO_SOURCES.items()]
    lakes.append((tmp_path, "detection-finding", 2004))
    held = 0
    for root, source, class_uid in lakes:
        ours = spark.read.schema(glue_ddl(class_uid)).parquet(f"{root}/ext/{source}/*/*/*/*.parquet")
        ours.createOrReplaceTempView("ours")
        rows = spark.sql("""
            select o.name, o.value, o.type, o.type_id from (
                select observables from ours union all select observables from native_observables)
            lateral view explode(observables) t as o
            """).collect()
        assert ("src_endpoint.ip", "192.0.2.1", "IP Address", 2) in [tuple(r) for r in rows], source
        held += len(rows) - 1
    fixture = json.loads((ROOT / "tests/fixtures/events/detection_finding.json").read_text())
    assert held == len(fixture["observables"]) > 0, "our observables read back whole"


def test_struct_fields_in_another_order_do_not_union_so_the_order_is_what_is_tested(spark):
    alphabetical = spark.createDataFrame(
        [([("n", "IP Address", 2, "v")],)],
        "observables array<struct<name:string,type:string,type_id:int,value:string>>")
    native = spark.createDataFrame([([("n", "v", "IP Address", 2)],)], f"observables {NATIVE_OBSERVABLES}")
    with pytest.raises(Exception, match="INCOMPATIBLE_COLUMN_TYPE|incompatible|compatible column types"):
        alphabetical.unionAll(native).collect()


def test_firehose_and_direct_objects_of_one_source_read_as_one_table(spark, tmp_path):
    """Issue 21, item 6: the Firehose path lands Hive's layout (INT96 timestamps, `bag` lists),
    the direct path Parquet's standard one (INT64 timestamps, `list` lists). Objects of both in
    one source's partitions read as one table, with the Glue DDL in Spark and in DuckDB."""
    import duckdb
    import pyarrow.parquet as pq

    events = tmp_path / "events.jsonl"
    events.write_text(cli("demo", "400", "--seed", "11"))
    lake = tmp_path / "lake"
    cli("local", str(events), "--out", str(lake), exit_codes=(0, 1))
    cli("upload", str(events), "--out", str(lake), exit_codes=(0, 1))
    files = sorted(lake.rglob("ext/api-activity/**/*.parquet"))

    def physical(path, column):
        schema = pq.ParquetFile(path).schema
        return next(c.physical_type for c in schema if c.path == column)

    assert {physical(f, "time") for f in files} == {"INT64"}
    assert {physical(f, "time_dt") for f in files} == {"INT96", "INT64"}, "both paths' objects"

    frame = spark.read.schema(glue_ddl(6003)).parquet(f"{lake}/ext/api-activity/*/*/*/*.parquet")
    rows = frame.select("time", "time_dt", "resources", "unmapped", "metadata.uid").collect()
    assert rows and len(rows) % 2 == 0, "each event once per path"
    assert all(int(r.time_dt.timestamp() * 1000) == r.time for r in rows)
    by_event = {}
    for r in rows:
        by_event.setdefault(r.uid, []).append((r.time_dt, r.resources, r.unmapped))
    assert all(len(pair) == 2 and pair[0] == pair[1] for pair in by_event.values()), \
        "an event reads the same from either layout, lists and maps included"
    assert any(r.resources for r in rows) and any(r.unmapped for r in rows)

    (duck,) = duckdb.sql(f"""
        select count(*), count(*) filter (where epoch_ms(time_dt) = time)
        from read_parquet('{lake}/ext/api-activity/*/*/*/*.parquet', union_by_name = true)
        """).fetchall()
    assert duck == (len(rows), len(rows))
