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


def cli(*args):
    """Runs the CLI; returns its stdout."""
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, check=True,
                          timeout=600).stdout
