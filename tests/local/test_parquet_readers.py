"""The local pipeline's Parquet read by the tools Security Lake users query with: DuckDB (hive
partitioning from the directory names) and pyarrow, next to a table with the types of Security
Lake's own sources. The lake is `ocsf-firehose local --demo` (conftest.py).

Run from the repository root (scripts/test does).
"""
import json
import pathlib

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ocsf_cli import DEMO_EVENTS as EVENTS, DEMO_SOURCES, ROOT, cli


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
        (order,) = group.sorting_columns
        assert group.column(order.column_index).path_in_schema == "time" and not order.descending
        schema = parquet.schema_arrow
        assert str(schema.field("time").type) == "int64"
        unmapped = schema.field("unmapped").type
        assert pa.types.is_map(unmapped), unmapped
        assert unmapped.key_type == pa.string() and unmapped.item_type == pa.string()
        # Hive's layout, as Firehose's ParquetSerDe writes it: INT96 timestamps without
        # statistics, `bag`/`array_element` lists, `map` entries.
        columns = {parquet.schema.column(i).path: parquet.schema.column(i)
                   for i in range(len(parquet.schema))}
        assert columns["time_dt"].physical_type == "INT96"
        assert str(schema.field("time_dt").type).startswith("timestamp[")
        index = list(columns).index("time_dt")
        assert not group.column(index).is_stats_set, "parquet-mr writes no INT96 statistics"
        assert "unmapped.map.key" in columns and "unmapped.map.value" in columns
        assert any(".bag.array_element" in path for path in columns), "Hive's list layout"
        assert not any(".list.element" in path for path in columns)
        assert path.name.startswith("ocsf-") and "-1-20" in path.name


def test_every_object_of_a_source_has_the_identical_schema_and_few_statistics(lake):
    out, summary = lake
    total = footers = 0
    for source in pathlib.Path(out, "ext").iterdir():
        files = sorted(source.rglob("*.parquet"))
        schemas = {pq.read_schema(path).to_string() for path in files}
        assert len(schemas) == 1, f"{source.name}: {len(schemas)} different schemas"
        for path in files:
            data = path.read_bytes()
            assert data[-4:] == b"PAR1"
            footers += int.from_bytes(data[-8:-4], "little")
            total += len(data)
            meta = pq.ParquetFile(path).metadata
            group = meta.row_group(0)
            with_statistics = {group.column(i).path_in_schema for i in range(group.num_columns)
                               if group.column(i).is_stats_set}
            assert "time" in with_statistics
            assert len(with_statistics) <= 16, with_statistics
            assert meta.num_columns <= 400
    # Small objects (about 20 rows each here) are mostly footer; the share for the
    # 100,000-event demo is measured by scripts/bench-local.
    print(f"footer share {footers / total:.1%} of {total} bytes")


def test_a_union_with_security_lakes_native_types_needs_no_cast(lake):
    out, _ = lake
    api = f"{out}/ext/api-activity/*/*/*/*.parquet"
    con = duckdb.connect()
    con.execute("""create table native (time_dt timestamp, unmapped map(varchar, varchar),
                                        class_uid integer)""")
    con.execute("""insert into native values
                   ('2023-04-28 12:00:00', map {'requestParameters.bucketName': 'native-bucket'}, 6003)""")
    rows = con.execute(f"""
        select time_dt, unmapped['requestParameters.bucketName'] as bucket from (
            select time_dt, unmapped, class_uid from read_parquet('{api}')
            union all
            select time_dt, unmapped, class_uid from native)
        """).fetchall()
    buckets = {bucket for _, bucket in rows}
    assert buckets == {"demo-bucket", "native-bucket"}
    assert all(time_dt is not None for time_dt, _ in rows), "time_dt filled from time"
    mismatched = con.execute(f"""
        select count(*) from read_parquet('{api}')
        where epoch_ms(time_dt) != time""").fetchone()[0]
    assert mismatched == 0
    moved = con.execute(f"""
        select count(*) from read_parquet('{out}/ext/authentication/*/*/*/*.parquet')
        where unmapped['device_posture'] in ('managed', 'unmanaged')""").fetchone()[0]
    assert moved > 0, "an unknown attribute is found under unmapped by its path"


def test_every_row_of_every_source_has_time_dt_from_its_time(lake):
    """Issue 21, item 2: `time_dt` filled whether or not the event listed the `datetime` profile
    (the demo's Network Activity and Detection Finding events do not), as Security Lake's own
    sources fill it."""
    out, summary = lake
    rows = duckdb.sql(f"""
        select regexp_extract(filename, '/ext/([^/]+)/', 1) as source, count(*),
               count(*) filter (where time_dt is null or epoch_ms(time_dt) != time),
               count(*) filter (where list_contains(metadata.profiles, 'datetime'))
        from read_parquet('{out}/ext/*/*/*/*/*.parquet', filename = true, union_by_name = true)
        group by source order by source""").fetchall()
    assert {source for source, *_ in rows} == {"api-activity", "authentication", "detection-finding",
                                               "network-activity"}
    for source, n, without, listed in rows:
        assert without == 0 and listed == n, f"{source}: {without} of {n} rows lack time_dt"


def hive_type(arrow_type):
    """The Hive type an Arrow type reads as, struct fields in the file's order."""
    if pa.types.is_struct(arrow_type):
        return "struct<" + ",".join(f"{f.name}:{hive_type(f.type)}" for f in arrow_type) + ">"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"array<{hive_type(arrow_type.value_type)}>"
    if pa.types.is_map(arrow_type):
        return f"map<{hive_type(arrow_type.key_type)},{hive_type(arrow_type.item_type)}>"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    return {"int32": "int", "int64": "bigint", "string": "string", "large_string": "string",
            "bool": "boolean", "double": "double", "float": "float"}[str(arrow_type)]


def test_the_parquet_schema_is_the_glue_table_with_struct_fields_in_the_same_order(lake):
    """Spark and Athena read a struct by position where a query unions it: the Parquet objects
    hold every column and struct field the Glue table declares, in the table's order."""
    out, _ = lake
    for source, class_uid in DEMO_SOURCES.items():
        glue = json.loads(cli("glue-schema", "--class-uid", str(class_uid)))["columns"]
        path = next(pathlib.Path(out, "ext", source).rglob("*.parquet"))
        schema = pq.read_schema(path)
        ours = {f.name: hive_type(f.type) for f in schema}
        assert ours == {c["Name"]: c["Type"] for c in glue}, source
        assert ours["observables"] == "array<struct<name:string,value:string,type:string,type_id:int>>"
