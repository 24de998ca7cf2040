"""The Lambda binary under the real `lambda_runtime` loop: cargo-lambda's `watch` emulates the
Lambda Runtime API and runs `ocsf-firehose-lambda`; `invoke` sends it Firehose events.

Run from the repository root (scripts/test does): needs `cargo lambda` on PATH.
"""
import base64
import json
import os
import pathlib
import signal
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "firehose"
BINARY = "ocsf-firehose-lambda"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"cargo lambda watch exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


class Watch:
    def __init__(self, env_vars=()):
        self.port = free_port()
        args = ["cargo", "lambda", "watch", "-A", "127.0.0.1", "-P", str(self.port)]
        for var in env_vars:
            args += ["--env-var", var]
        self.log = open(ROOT / "target" / f"cargo-lambda-watch-{self.port}.log", "w+")
        self.process = subprocess.Popen(
            args, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for_port(self.port, self.process)

    def invoke(self, fixture, timeout=600):
        return subprocess.run(
            ["cargo", "lambda", "invoke", BINARY, "-A", "127.0.0.1", "-P", str(self.port),
             "--data-file", str(FIXTURES / fixture)],
            cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        )

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture(scope="module")
def watch():
    w = Watch()
    yield w
    w.stop()


def results(stdout):
    response = json.loads(stdout)
    return [(r["recordId"], r["result"]) for r in response["records"]], response


def test_direct_put_event_through_the_runtime_loop(watch):
    run = watch.invoke("direct_put.json")
    assert run.returncode == 0, run.stderr
    answers, response = results(run.stdout)
    assert answers == [(f"direct_put-{i:03}", "Ok") for i in range(5)]
    first = json.loads(base64.b64decode(response["records"][0]["data"]))
    assert first["class_uid"] == 3002
    assert response["records"][0]["metadata"]["partitionKeys"] == {
        "region": "us-east-1", "accountId": "123456789012", "eventDay": "20230428"}


def test_bad_records_fail_alone_and_are_logged_without_values(watch):
    run = watch.invoke("bad_inputs.json")
    assert run.returncode == 0, run.stderr
    answers, _ = results(run.stdout)
    assert [r for _, r in answers] == ["Ok"] + ["ProcessingFailed"] * 8 + ["Ok"]
    log = watch.output()
    assert log.count('"message":"record not delivered"') >= 8
    assert '"CloudWatchMetrics"' in log and '"RecordsFailed":8' in log
    assert "alice" not in log  # a value of the fixture events


def test_a_bad_variable_fails_init_naming_it():
    w = Watch(env_vars=["OCSF_VERSION=9.9.9"])
    try:
        # The first invocation starts the function, which exits during init: the invocation is
        # never answered (on AWS: Runtime.ExitError with the log line below). Wait for that line
        # rather than for the invocation to time out.
        invoke = subprocess.Popen(
            ["cargo", "lambda", "invoke", BINARY, "-A", "127.0.0.1", "-P", str(w.port),
             "--data-file", str(FIXTURES / "direct_put.json")],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 120
        while '"message":"init failed"' not in w.output() and time.monotonic() < deadline:
            assert invoke.poll() is None, f"the invocation was answered: {invoke.communicate()}"
            time.sleep(0.2)
        assert '"message":"init failed"' in w.output()
        assert "invalid OCSF_VERSION: unsupported OCSF version" in w.output()
        time.sleep(1)
        assert invoke.poll() is None, "an invocation of a function that failed init was answered"
        invoke.kill()
        invoke.wait()
    finally:
        w.stop()
