"""What the Python tests share: the repository and the CLI binary (the debug build `cargo test`
made), built on demand."""
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]
BINARY = ROOT / "target" / "debug" / "ocsf-firehose"
# Events of the demo lake the reader tests (tests/local) query.
DEMO_EVENTS = 3000


def build():
    """Builds the CLI (a no-op when `cargo test` already did)."""
    subprocess.run(["cargo", "build", "--quiet", "--bin", "ocsf-firehose"], cwd=ROOT, check=True)


def glue_ddl(class_uid, version="1.1.0"):
    """The class's Glue table as Hive DDL columns (`glue-schema --format hive`), on one line."""
    ddl = cli("glue-schema", "--class-uid", str(class_uid), "--ocsf-version", version, "--format", "hive")
    return " ".join(ddl.split("\n"))


def cli(*args, exit_codes=(0,)):
    """Runs the CLI; returns its stdout (an exit status outside `exit_codes` fails, with stderr)."""
    run = subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=600)
    assert run.returncode in exit_codes, f"exit {run.returncode}: {run.stderr}"
    return run.stdout


# The demo's classes by their default source name.
DEMO_SOURCES = {"authentication": 3002, "api-activity": 6003, "network-activity": 4001, "detection-finding": 2004}


def moto():
    """The moto server scripts/test started (`MOTO_ENDPOINT`): its endpoint, an environment with
    test credentials for the CLI, and a boto3 client maker. Skips without one, except in CI."""
    import os

    import boto3
    import pytest

    endpoint = os.environ.get("MOTO_ENDPOINT")
    if not endpoint:
        assert not os.environ.get("CI"), "CI must run moto and set MOTO_ENDPOINT"
        pytest.skip("MOTO_ENDPOINT is not set (scripts/test starts moto)")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return endpoint, env, lambda service: session.client(service, endpoint_url=endpoint)
