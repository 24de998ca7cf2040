"""Who may use the key, asked of the module's policy documents as requests, with the same answers
as the CDK construct's tests (infra/cdk/test/access.test.ts): CloudWatch Logs only for this
account's log groups, the Firehose role and the direct writers only through S3 (or Kinesis) and
only for the source's prefixes. The documents' strings are computed by `terraform console` with
the values a deployment would supply; the statements are then evaluated as IAM does (explicit
deny wins; `*`/`?` wildcards; every condition must hold, a key missing from the request fails it).

Run: .venv-hcl/bin/pytest -q infra/terraform/tests
"""
import json
import re

import pytest

from test_module import DIRECT, TF, cdk_template, console_json, only

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/pipeline"
LAKE_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/lake"
BUCKET_ARN = "arn:aws:s3:::lake"
BINDINGS = {
    "local.region": "us-east-1",
    "local.partition": "aws",
    "local.account_id": ACCOUNT,
    "local.url_suffix": "amazonaws.com",
    "local.bucket_arn": BUCKET_ARN,
    "local.source_location": "ext/my-auth/",
    "local.kms_key_arn": KEY,
    "local.kinesis_key_arn": KEY,
    "var.source_name": "my-auth",
    "data.aws_partition.current.partition": "aws",
    "data.aws_partition.current.dns_suffix": "amazonaws.com",
    "data.aws_region.current.name": "us-east-1",
    "var.lake_bucket_name": "lake",
    "var.lake_kms_key_arn": LAKE_KEY,
    "module.custom_source.source_location": "ext/my-auth/",
}


def iam_statements(document, sids, bindings):
    """The statements named `sids` of a parsed `aws_iam_policy_document` (dynamic ones expanded
    for each value of their `for_each`), in IAM's JSON shape with every string computed."""
    found = []
    for statement in document.get("statement", []):
        if statement.get("sid") in sids:
            found.append((statement, {}))
    for block in document.get("dynamic", []):
        content = only(block["statement"]["content"])
        if content.get("sid") in sids:
            for value in console_json(expression(block["statement"]["for_each"]), bindings):
                found.append((content, {"statement.value": value}))
    assert {s.get("sid") for s, _ in found} == set(sids), found
    resolved = []
    for statement, extra in found:
        shape = {
            "Effect": statement.get("effect", "Allow"),
            "Action": statement["actions"],
            "Resource": statement["resources"],
            "Principal": {p["type"]: p["identifiers"] for p in statement.get("principals", [])} or None,
            "Condition": [[c["test"], c["variable"], c["values"]] for c in statement.get("condition", [])],
        }
        # Every `${…}` of the statement's strings, computed by terraform console in one call.
        resolved.append(console_json("${" + hcl_literal(shape) + "}", {**bindings, **extra}))
    return resolved


def expression(text):
    """A python-hcl2 expression as Terraform reads it: hcl2 prints a reference nested in a list or
    object as a quoted template (`['${local.x}']`)."""
    return re.sub(r"'\$\{([^}]*)\}'", r"(\1)", text)


def hcl_literal(value):
    """An HCL expression for a JSON value whose strings may hold `${…}` templates."""
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(hcl_literal(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {hcl_literal(v)}" for k, v in value.items()) + "}"


def matches(statement, action, resource, principal, context):
    def glob(pattern, value, fold=False):
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        return re.fullmatch(regex, value, re.IGNORECASE if fold else 0) is not None

    if not any(glob(a, action, fold=True) for a in statement["Action"]):
        return False
    if not any(glob(r, resource) for r in statement["Resource"]):
        return False
    if statement["Principal"] and not any(glob(i, principal or "") for ids in statement["Principal"].values() for i in ids):
        return False
    tests = {"StringEquals": lambda p, v: p == v, "StringLike": glob, "ArnLike": glob}
    for test, variable, values in statement["Condition"]:
        if variable not in context or not any(tests[test](p, context[variable]) for p in values):
            return False
    return True


def allows(statements, action, resource, principal=None, context=None):
    context = context or {}
    if any(s["Effect"] == "Deny" and matches(s, action, resource, principal, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and matches(s, action, resource, principal, context) for s in statements)


def through(service, context=None):
    return {"kms:ViaService": f"{service}.us-east-1.amazonaws.com", **(context or {})}


def s3_object(key, bucket=BUCKET_ARN):
    return {"kms:EncryptionContext:aws:s3:arn": f"{bucket}/{key}"}


def test_cloudwatch_logs_may_use_the_key_for_this_accounts_log_groups_only():
    policy = iam_statements(TF["data"]["aws_iam_policy_document.key"], {"CloudWatchLogsOfThisAccount"}, BINDINGS)
    logs = "logs.us-east-1.amazonaws.com"

    def can(action, log_group=None):
        context = {"kms:EncryptionContext:aws:logs:arn": log_group} if log_group else {}
        return allows(policy, action, "*", principal=logs, context=context)

    ours = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/ocsf-firehose-my-auth"
    for action in ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"):
        assert can(action, ours)
    assert not can("kms:GenerateDataKey", "arn:aws:logs:us-east-1:999999999999:log-group:theirs")
    assert not can("kms:GenerateDataKey", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:elsewhere")
    assert not can("kms:GenerateDataKey")


def test_the_firehose_role_uses_the_key_through_s3_for_its_two_prefixes_only():
    role = iam_statements(TF["data"]["aws_iam_policy_document.firehose"], {"EncryptObjectsThroughS3"}, BINDINGS)
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        for key in ("ext/my-auth/region=us-east-1/accountId=1/eventDay=20260101/a.parquet", "errors/my-auth/x/e"):
            assert allows(role, action, KEY, context=through("s3", s3_object(key)))
        assert allows(role, action, KEY, context=through("s3", {"kms:EncryptionContext:aws:s3:arn": BUCKET_ARN}))
        assert not allows(role, action, KEY, context=through("s3", s3_object("ext/other-source/x.parquet")))
        assert not allows(role, action, KEY, context=through("s3", s3_object("ext/my-auth/x", "arn:aws:s3:::another")))
        assert not allows(role, action, KEY, context=s3_object("ext/my-auth/x"))
        assert not allows(role, action, KEY, context=through("sqs", s3_object("ext/my-auth/x")))
    assert not allows(role, "kms:Encrypt", KEY, context=through("s3", s3_object("ext/my-auth/x")))


@pytest.mark.parametrize("source_type,stream_key,expected", [
    ("kinesis_new", None, KEY),
    ("kinesis_existing", "arn:aws:kms:us-east-1:1:key/theirs", "arn:aws:kms:us-east-1:1:key/theirs"),
    ("kinesis_existing", None, None),
    ("direct_put", None, None),
])
def test_a_kinesis_source_decrypts_its_stream_through_kinesis_only(source_type, stream_key, expected):
    bindings = {"var.source_type": source_type, "local.kms_key_arn": KEY, "var.kinesis_kms_key_arn": stream_key}
    key = console_json(TF["locals"]["kinesis_key_arn"], bindings)
    assert key == expected
    document = TF["data"]["aws_iam_policy_document.firehose"]
    if key is None:
        block = next(b for b in document["dynamic"] if only(b["statement"]["content"])["sid"] == "DecryptTheStreamThroughKinesis")
        assert console_json(expression(block["statement"]["for_each"]), {**BINDINGS, "local.kinesis_key_arn": None}) == []
        return
    role = iam_statements(document, {"DecryptTheStreamThroughKinesis"}, {**BINDINGS, "local.kinesis_key_arn": key})
    assert allows(role, "kms:Decrypt", key, context=through("kinesis"))
    assert not allows(role, "kms:Decrypt", key)
    assert not allows(role, "kms:Decrypt", key, context=through("s3"))


def test_the_direct_writer_uses_the_lake_key_through_s3_for_its_location_only():
    writer = iam_statements(
        DIRECT["data"]["aws_iam_policy_document.writer"], {"WriteSecurityLakeObjects", "EncryptObjectsThroughS3"}, BINDINGS
    )
    assert allows(writer, "s3:PutObject", f"{BUCKET_ARN}/ext/my-auth/a.parquet")
    assert not allows(writer, "s3:PutObject", f"{BUCKET_ARN}/ext/other/a.parquet")
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert allows(writer, action, LAKE_KEY, context=through("s3", s3_object("ext/my-auth/a.parquet")))
        assert not allows(writer, action, LAKE_KEY, context=through("s3", s3_object("ext/other/a.parquet")))
        assert not allows(writer, action, LAKE_KEY)
    no_key = {**BINDINGS, "var.lake_kms_key_arn": None}
    block = only(DIRECT["data"]["aws_iam_policy_document.writer"]["dynamic"])["statement"]
    assert console_json(expression(block["for_each"]), no_key) == []


def condition_shapes(statements):
    """(effect, action, the sorted condition operator:key pairs) of each action of `statements`."""
    return {
        (s["Effect"], action, tuple(sorted(f"{op}:{key}" for op, keys in (s.get("Condition") or {}).items() for key in keys)))
        for s in statements
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        if action.startswith("kms:")
    }


def test_the_cdk_template_binds_the_key_with_the_same_conditions():
    resources = cdk_template()["Resources"]
    cdk_role = [
        s
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::IAM::Policy" and logical_id.startswith("PipelineFirehoseRole")
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    tf_role = iam_statements(TF["data"]["aws_iam_policy_document.firehose"], {"EncryptObjectsThroughS3"}, BINDINGS)
    as_cfn = lambda statements: [  # noqa: E731
        {**s, "Condition": {op: {var: vals} for op, var, vals in s["Condition"]}} for s in statements
    ]
    assert condition_shapes(cdk_role) == condition_shapes(as_cfn(tf_role))
    key = next(r for r in resources.values() if r["Type"] == "AWS::KMS::Key")
    cdk_logs = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if "Service" in json.dumps(s.get("Principal", {}))]
    tf_logs = iam_statements(TF["data"]["aws_iam_policy_document.key"], {"CloudWatchLogsOfThisAccount"}, BINDINGS)
    assert condition_shapes(cdk_logs) == condition_shapes(as_cfn(tf_logs))
    assert re.search(r"log-group:\*", json.dumps(cdk_logs))
