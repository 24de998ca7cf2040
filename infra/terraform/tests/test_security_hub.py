"""Static tests of the Security Hub preset module (modules/security_hub): it reads the same preset
file as the CDK construct, routes each finding class by the same event pattern and input path to
its own pipeline (the root module, one custom source per class), and gives EventBridge the same
narrow role; the synthesized CDK stacks are the reference (scripts/test synthesizes them first).

Run: .venv-hcl/bin/pytest -q infra/terraform/tests
"""
import json
import os
import re

import pytest

from test_module import CDK_OUT, INFRA, MODULE, console_json, merged, only, terraform_console

HUB = merged(MODULE / "modules" / "security_hub")
PRESET = json.loads((INFRA / "presets" / "security-hub.json").read_text())
LOCALS = HUB["locals"]


def hcl(expression):
    """A python-hcl2 expression as Terraform reads it (hcl2 prints `null` as `None`)."""
    return re.sub(r"\bNone\b", "null", expression)


def encoded(expression, bindings):
    """The value of a `jsonencode(…)` expression, decoded."""
    return json.loads(terraform_console(hcl(expression), bindings))


def classes(class_uids=None):
    """`local.classes` as Terraform computes it for `var.class_uids`."""
    bindings = {"local.preset.classes": PRESET["classes"], "var.class_uids": class_uids}
    return console_json(hcl(LOCALS["classes"]), bindings)


def cdk_stack(class_uid):
    """The synthesized CDK stack of a preset class (bin/app.ts: OcsfSecurityHub<Name>)."""
    for path in sorted(CDK_OUT.glob("OcsfSecurityHub*.template.json")):
        template = json.loads(path.read_text())
        rules = [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
        if rules and rules[0]["Properties"]["EventPattern"]["detail"]["findings"]["class_uid"] == [class_uid]:
            return template
    if os.environ.get("REQUIRE_CDK_OUT"):
        pytest.fail(f"no synthesized Security Hub stack for class {class_uid} in {CDK_OUT}")
    pytest.skip("the CDK app is not synthesized")


def test_every_preset_class_by_default_or_the_ones_named():
    assert sorted(classes()) == ["2002", "2003", "2004", "2006"]
    assert classes()["2004"] == {"classUid": 2004, "sourceName": "sh-detection", "eventClass": "DETECTION_FINDING"}
    assert sorted(classes([2004, 2006])) == ["2004", "2006"]
    validation = only(HUB["variable"]["class_uids"]["validation"])
    assert "2002, 2003, 2004 and 2006" in validation["error_message"]


def test_each_class_is_its_own_pipeline_with_the_preset_s_schema():
    pipeline = HUB["module"]["pipeline"]
    assert pipeline["source"] == "../.."
    assert pipeline["for_each"] == "${local.classes}"
    assert pipeline["source_type"] == "direct_put"
    assert pipeline["aggregation"] is False
    assert pipeline["source_name"] == "${each.value.sourceName}"
    assert pipeline["event_classes"] == ["${each.value.eventClass}"]
    schemas = INFRA / "schemas" / PRESET["ocsfVersion"]
    for uid, c in classes().items():
        found = sorted(schemas.glob(f"{uid}-*.json"))
        assert len(found) == 1, found  # `one(fileset(…))` needs exactly one
        schema = json.loads(found[0].read_text())
        assert (schema["class_uid"], schema["ocsf_version"]) == (c["classUid"], PRESET["ocsfVersion"])


@pytest.mark.parametrize("class_uid", [c["classUid"] for c in PRESET["classes"]])
def test_the_rule_and_its_target_match_the_cdk_stack(class_uid):
    key = str(class_uid)
    bindings = {
        "local.classes": classes(),
        "local.preset.eventSource": PRESET["eventSource"],
        "local.preset.detailType": PRESET["detailType"],
    }
    pattern = json.loads(console_json(LOCALS["event_patterns"], bindings)[key])
    assert pattern == {
        "source": ["aws.securityhub"],
        "detail-type": ["Findings Imported V2"],
        "detail": {"findings": {"class_uid": [class_uid]}},
    }
    target = HUB["resource"]["aws_cloudwatch_event_target.findings"]
    input_path = terraform_console(target["input_path"], {"local.preset.findingPath": PRESET["findingPath"]})
    assert input_path == "$.detail.findings[0]"
    assert target["arn"] == "${module.pipeline[each.key].delivery_stream_arn}"
    assert target["role_arn"] == "${aws_iam_role.events[each.key].arn}"
    template = cdk_stack(class_uid)
    rule = next(r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule")
    assert rule["Properties"]["EventPattern"] == pattern
    assert only(rule["Properties"]["Targets"])["InputPath"] == input_path


def test_eventbridge_may_only_put_records_into_the_class_s_stream_as_in_the_cdk_stack():
    bindings = {
        "data.aws_caller_identity.current.account_id": "123456789012",
        "module.pipeline[each.key].delivery_stream_arn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/x",
    }
    trust = encoded(HUB["resource"]["aws_iam_role.events"]["assume_role_policy"], bindings)
    assert only(trust["Statement"]) == {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }
    policy = encoded(HUB["resource"]["aws_iam_role_policy.events"]["policy"], bindings)
    statement = only(policy["Statement"])
    assert statement["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
    assert statement["Resource"] == [bindings["module.pipeline[each.key].delivery_stream_arn"]]
    template = cdk_stack(2004)
    cdk = [
        s
        for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Policy" and logical_id.startswith("FindingsEventsRole")
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert [s["Action"] for s in cdk] == [statement["Action"]]


def test_the_example_uses_the_module():
    directory = MODULE / "examples" / "security_hub"
    module = only(list(merged(directory)["module"].values()))
    assert module["source"] == "../../modules/security_hub"
    assert (directory / module["source"]).resolve() == (MODULE / "modules" / "security_hub").resolve()
