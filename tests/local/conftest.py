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
