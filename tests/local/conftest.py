"""The lake the reader tests query: `ocsf-firehose local --demo` into a temporary directory,
once per session."""
import json

import pytest

from ocsf_cli import DEMO_EVENTS, build, cli


@pytest.fixture(scope="session")
def lake(tmp_path_factory):
    build()
    out = tmp_path_factory.mktemp("lake")
    # Exit 1: the demo's deliberately invalid events did not land (the summary accounts for them).
    summary = cli("local", "--demo", str(DEMO_EVENTS), "--seed", "5", "--out", str(out), "--json",
                  exit_codes=(1,))
    return out, json.loads(summary)


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (Athena's reader), UTC, for every module that reads with a Glue DDL."""
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("ocsf-firehose-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .getOrCreate())
    yield session
    session.stop()
