"""The local pipeline's Parquet read as Athena reads a Security Lake source: Apache Spark with the
table's explicit Hive schema from `ocsf-firehose glue-schema --format hive` (the Glue DDL), and a
UNION ALL with a table typed like Security Lake's own sources (`time_dt timestamp`,
`unmapped map<string,string>`) that needs no cast. Needs Java (scripts/test checks for it).
"""
import datetime

import pytest
from pyspark.sql import SparkSession

from ocsf_cli import cli


@pytest.fixture(scope="module")
def spark():
    session = (SparkSession.builder.master("local[1]").appName("ocsf-firehose-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .getOrCreate())
    yield session
    session.stop()


def glue_ddl(class_uid):
    return " ".join(cli("glue-schema", "--class-uid", str(class_uid), "--format", "hive").split("\n"))


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
