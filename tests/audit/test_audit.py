"""`ocsf-firehose audit`: lakes this product writes have no problem; a lake built with pyarrow
holding one object per defect has exactly those problems, each at its key; 1,000 objects in moto
S3 are audited from their footers alone (the bytes read counted).

- clean: the same demo events through `local` (Firehose's layout, SNAPPY), `upload` (the direct
  path, zstd) and the redrive paths (a strict local run's error records redriven into the local
  pipeline, and into the sources' locations); pyarrow counts the rows audit reports.
- defects: an `upload` lake's authentication source copied, then one object of each defect added
  with pyarrow (rows taken from the lake's own objects): a wrong `eventDay`, two classes, unsorted
  rows, a page over 1 MB, `time_dt` as string, a dropped column (drift), a non-Parquet object, a
  bad `accountId`.
- moto: one object of ~1,500 rows (footer statistics and declared sort order, as pyarrow writes
  them when asked) under 1,000 keys.

Run from the repository root (scripts/test does).
"""
import json
import shutil
import subprocess
import uuid

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ocsf_cli import BINARY, build
from ocsf_cli import moto as moto_server

EVENTS = 3000
SOURCE = "authentication"


def run(*args, env=None):
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=600, env=env)


def audit(*args, env=None, exit_code=0):
    done = run("audit", *args, "--format", "json", env=env)
    assert done.returncode == exit_code, done.stderr
    return json.loads(done.stdout)


def objects_of(root, source=None):
    pattern = f"ext/{source}/**/*.parquet" if source else "ext/**/*.parquet"
    return sorted(root.glob(pattern))


@pytest.fixture(scope="module")
def lakes(tmp_path_factory):
    """Lakes written by `local`, `upload` and the two redrive paths from the same demo events."""
    build()
    work = tmp_path_factory.mktemp("audit")
    events = work / "events.jsonl"
    events.write_bytes(subprocess.run([str(BINARY), "demo", str(EVENTS), "--seed", "5"], check=True,
                                      capture_output=True).stdout)
    local, uploaded, strict, direct = (work / name for name in ("local", "upload", "strict", "direct"))
    for args in (["local", str(events), "--out", str(local)],
                 ["upload", str(events), "--out", str(uploaded), "--state", str(work / "state")],
                 ["local", str(events), "--out", str(strict), "--class-uid", "3002"],
                 ["redrive", "--dir", str(strict), "--lake-dir", str(direct)],
                 ["redrive", "--dir", str(strict), "--local", str(strict)]):
        done = run(*args)
        assert done.returncode in (0, 1), done.stderr  # the demo's invalid events fail
    return {"local": local, "upload": uploaded, "redrive-local": strict, "redrive-direct": direct}


@pytest.mark.parametrize("name", ["local", "upload", "redrive-local", "redrive-direct"])
def test_lakes_this_product_writes_have_no_problem(lakes, name):
    lake = lakes[name]
    report = audit("--dir", str(lake))
    assert report["problems"] == []
    files = objects_of(lake)
    assert report["objects"] == len(files) > 0
    assert sum(s["rows"] for s in report["sources"]) == sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    assert {s["source"] for s in report["sources"]} == {f.relative_to(lake).parts[1] for f in files}
    # Firehose's layout is SNAPPY (noted: Security Lake prefers zstd); the direct path's is zstd.
    firehose = name in ("local", "redrive-local")
    for source in report["sources"]:
        assert source["codecs_not_zstd"] == ({"snappy": source["objects"]} if firehose else {})


def test_the_rows_of_a_lake_pass_the_lambda_s_verdict_again(lakes):
    report = audit("--dir", str(lakes["upload"]), "--rows", "--sample", "5", "--source", SOURCE)
    [source] = report["sources"]
    assert source["source"] == SOURCE and source["class_uid"] == 3002
    verdicts = source["verdicts"]
    files = objects_of(lakes["upload"], SOURCE)
    assert verdicts["rows"] == sum(min(5, pq.ParquetFile(f).metadata.num_rows) for f in files)
    assert verdicts["rejected"] == 0 and report["problems"] == []


def partition_of(path):
    """`region=…/accountId=…/eventDay=…` of an object."""
    return "/".join(path.parts[-4:-1])


def write(table, path, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", **options)


@pytest.fixture(scope="module")
def defects(lakes, tmp_path_factory):
    """The upload lake's authentication source and one object per defect: {key: kind}."""
    root = tmp_path_factory.mktemp("defects")
    shutil.copytree(lakes["upload"] / "ext" / SOURCE, root / "ext" / SOURCE)
    good = objects_of(root, SOURCE)
    assert len(good) > 8
    # The largest good objects (rows with several distinct times) lend their rows.
    donors = sorted(good, key=lambda f: pq.ParquetFile(f).metadata.num_rows, reverse=True)
    base = f"ext/{SOURCE}"
    expected = {}

    def add(kind, partition, table=None, body=None, name=None, **options):
        key = f"{base}/{partition}/{name or kind}.parquet"
        path = root / key
        if body is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        else:
            write(table, path, **options)
        expected[key] = kind

    table = pq.read_table(donors[0])
    partition = partition_of(donors[0])
    region, account, day = (part.split("=", 1)[1] for part in partition.split("/"))
    next_day = f"{int(day) + 1}" if not day.endswith(("28", "29", "30", "31")) else f"{int(day) - 1}"
    assert len(set(table.column("time").to_pylist())) > 1
    add("event_day_mismatch", f"region={region}/accountId={account}/eventDay={next_day}", table)
    classes = pc.if_else(pa.array([i % 2 == 0 for i in range(table.num_rows)]), table.column("class_uid"),
                         pa.scalar(3005, pa.int32()))
    add("classes_mixed", partition, table.set_column(table.schema.get_field_index("class_uid"), "class_uid", classes))
    descending = table.take(pc.sort_indices(table, sort_keys=[("time", "descending")]))
    add("unsorted", partition, descending)
    big = pa.array(["x" * 300_000] * table.num_rows)
    add("page_too_large", partition, table.set_column(table.schema.get_field_index("message"), "message", big),
        use_dictionary=False, data_page_size=64 * 1024 * 1024)
    index = table.schema.get_field_index("time_dt")
    as_text = pc.cast(table.column("time_dt"), pa.string())
    add("column_type", partition, table.set_column(index, pa.field("time_dt", pa.string()), as_text))
    add("schema_drift", partition, table.drop_columns(["message"]))
    add("not_parquet", partition, body=b'{"class_uid": 3002}\n', name="stray.json")
    add("partition_value", f"region={region}/accountId=12345/eventDay={day}", table)
    # What Spark and Hadoop leave beside their objects, which Athena skips: not a problem.
    (root / base / partition / "_SUCCESS").write_bytes(b"")
    (root / base / partition / ".part-0.parquet.crc").write_bytes(b"crc")
    return root, expected


def test_each_defect_is_found_at_its_key_and_nothing_else(defects):
    root, expected = defects
    report = audit("--dir", str(root), exit_code=1)
    found = {(p["key"], p["kind"]) for p in report["problems"]}
    assert found == {(key, kind) for key, kind in expected.items()}, json.dumps(report["problems"], indent=1)
    assert len(report["problems"]) == len(expected), "one problem per defect"
    assert report["hidden"] == 2
    [source] = report["sources"]
    assert source["class_uid"] == 3002 and source["problems"] == {kind: 1 for kind in expected.values()}
    text = run("audit", "--dir", str(root))
    assert text.returncode == 1
    for key in expected:
        assert key in text.stdout


def test_a_table_from_glue_is_what_objects_are_checked_against(defects, tmp_path):
    root, expected = defects
    columns = json.loads(run("glue-schema", "--class-uid", "3002").stdout)["columns"]
    for column in columns:
        if column["Name"] == "time_dt":
            column["Type"] = "string"
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"Table": {"Name": "t", "StorageDescriptor": {"Columns": columns}}}))
    report = audit("--dir", str(root), "--table-from", str(table), exit_code=1)
    kinds = {p["key"]: p["kind"] for p in report["problems"]}
    column_type_key = next(key for key, kind in expected.items() if kind == "column_type")
    # The string `time_dt` now agrees with the table, not with Security Lake's native tables;
    # every other object's timestamp `time_dt` now differs from that table.
    assert kinds[column_type_key] == "native_type"
    assert sum(kind == "column_type" for kind in kinds.values()) > len(expected)


def test_a_missing_folder_is_an_error():
    done = run("audit", "--dir", "/nonexistent/lake")
    assert done.returncode == 2 and "nonexistent" in done.stderr


@pytest.fixture(scope="module")
def moto():
    endpoint, env, client = moto_server()
    return endpoint, env, client("s3")


def test_a_thousand_objects_in_s3_are_audited_from_their_footers(lakes, moto, tmp_path):
    endpoint, env, s3 = moto
    donor = max(objects_of(lakes["upload"], SOURCE), key=lambda f: pq.ParquetFile(f).metadata.num_rows)
    table = pq.read_table(donor)
    table = pa.concat_tables([table] * (1500 // table.num_rows + 1)).sort_by("time")
    # A message of its own per row: objects mostly data (~100 KB), as real objects are.
    messages = pa.array([uuid.uuid4().hex * 4 for _ in range(table.num_rows)])
    table = table.set_column(table.schema.get_field_index("message"), "message", messages)
    path = tmp_path / "big.parquet"
    stats = ["time", "class_uid"]
    write(table, path, write_statistics=stats,
          sorting_columns=pq.SortingColumn.from_ordering(table.schema, [("time", "ascending")],
                                                          null_placement="at_start"))
    body = path.read_bytes()
    footer = int.from_bytes(body[-8:-4], "little")
    bucket = f"lake-audit-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    prefix = f"ext/{SOURCE}/{partition_of(donor)}"
    for i in range(1000):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{i:04}.zstd.parquet", Body=body)
    report = audit("--bucket", bucket, "--endpoint-url", endpoint, "--region", "us-east-1", env=env)
    assert report["problems"] == [] and report["objects"] == 1000
    assert report["sources"][0]["rows"] == 1000 * table.num_rows
    assert report["reads"] == 1000, "one ranged read per object: its footer"
    # The first reads (up to --concurrency at once) take the tail's first 64 KiB; every later one
    # the longest footer met and 4 KiB.
    assert report["bytes_read"] <= 1000 * (footer + 8 + 4096) + 16 * 64 * 1024
    assert report["bytes_read"] < report["bytes"] / 2, (report["bytes_read"], report["bytes"])
