"""Issue 21: the rows that land pass the JSON Schema check of AWS's custom-source validation tool
(aws-samples/amazon-security-lake-ocsf-validation validates each row against the JSON Schema the
OCSF server generates for its class and profiles). The schemas come from `ocsf-json-schema`
(PyPI), an independent generator that encodes the `at_least_one`/`just_one` constraints as the
current OCSF server does. Rows are read from the Parquet of `local --demo` and of `upload`, in
OCSF 1.1.0 and 1.3.0, and turned into JSON as the tool does: nulls left out, timestamps as
RFC 3339 text, `unmapped` as an object.

Run from the repository root (scripts/test does).
"""
import datetime
import json
import pathlib
import subprocess

import jsonschema
import pyarrow.parquet as pq
import pytest
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

from ocsf_cli import BINARY, build, cli

EVENTS = 1200


def as_json(value):
    """A Parquet value as the JSON of the event: nulls and empty maps dropped."""
    if isinstance(value, dict):
        out = {k: as_json(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(value, list):
        if value and all(isinstance(e, tuple) and len(e) == 2 for e in value):  # a map's entries
            return {k: v for k, v in value}
        return [as_json(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


def rows(root):
    for path in sorted(pathlib.Path(root, "ext").rglob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            yield path, as_json(row)


@pytest.fixture(scope="module", params=["1.1.0", "1.3.0"])
def lakes(request, tmp_path_factory):
    """`local --demo` and `upload` of the same demo events, in one OCSF version."""
    build()
    version = request.param
    work = tmp_path_factory.mktemp(f"schema-{version}")
    events = work / "events.jsonl"
    events.write_bytes(subprocess.run([str(BINARY), "demo", str(EVENTS), "--seed", "21"], check=True,
                                      capture_output=True).stdout)
    local, upload = work / "local", work / "upload"
    cli("local", str(events), "--out", str(local), "--ocsf-version", version, "--json", exit_codes=(1,))
    cli("upload", str(events), "--out", str(upload), "--ocsf-version", version, "--json", exit_codes=(1,))
    return version, {"local": local, "upload": upload}


def test_every_landed_row_passes_the_ocsf_json_schema_of_its_class(lakes):
    version, roots = lakes
    generator = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=version))
    validators = {}
    for path_kind, root in roots.items():
        checked, failures = 0, []
        for path, row in rows(root):
            profiles = tuple(sorted(row.get("metadata", {}).get("profiles", [])))
            key = (row["class_uid"], profiles)
            if key not in validators:
                name = generator.lookup_class_name_from_uid(class_uid=row["class_uid"])
                schema = generator.get_class_schema(name, list(profiles))
                validators[key] = jsonschema.Draft202012Validator(schema)
            errors = sorted(validators[key].iter_errors(row), key=lambda e: list(e.absolute_path))
            checked += 1
            if errors:
                e = errors[0]
                failures.append(f"{path.name} class {row['class_uid']}: {'.'.join(map(str, e.absolute_path))}: "
                                f"{e.message[:200]}")
        print(f"{version} {path_kind}: {checked} rows checked, {len(failures)} fail")
        assert checked > EVENTS / 2, checked
        assert not failures, "\n".join(failures[:20])
