"""The CLI binary the upload tests run (the debug build `cargo test` made)."""
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = ROOT / "target" / "debug" / "ocsf-firehose"


def build():
    subprocess.run(["cargo", "build", "--quiet", "--bin", "ocsf-firehose"], cwd=ROOT, check=True)
