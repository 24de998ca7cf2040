"""The lake the reader tests query: `ocsf-firehose local --demo` (the debug binary that
`cargo test` built) into a temporary directory, once per session."""
import json
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = ROOT / "target" / "debug" / "ocsf-firehose"
EVENTS = 3000


def cli(*args):
    """Runs the CLI; returns its stdout."""
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, check=True,
                          timeout=600).stdout


@pytest.fixture(scope="session")
def lake(tmp_path_factory):
    subprocess.run(["cargo", "build", "--quiet", "--bin", "ocsf-firehose"], cwd=ROOT, check=True)
    out = tmp_path_factory.mktemp("lake")
    summary = cli("local", "--demo", str(EVENTS), "--seed", "5", "--out", str(out), "--json")
    return out, json.loads(summary)
