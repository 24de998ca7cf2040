"""Static tests of the Terraform module (no provider can be downloaded here, so no
`terraform validate`/`plan`): the HCL is parsed with python-hcl2 and the same settings as the CDK
tests are asserted, including against the CDK's synthesized template when it exists (scripts/test
synthesizes it first and sets REQUIRE_CDK_OUT=1), so that the two cannot drift.

Run: .venv-hcl/bin/pytest -q infra/terraform/tests
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import hcl2
import pytest

MODULE = pathlib.Path(__file__).resolve().parents[1]
INFRA = MODULE.parent
DEFAULTS = json.loads((INFRA / "defaults.json").read_text())
CDK_OUT = INFRA / "cdk" / "cdk.out"


def load(path):
    with open(path) as f:
        return hcl2.load(f)


def merged(directory):
    """Every block of every .tf file in `directory`, merged by kind."""
    out = {"resource": {}, "data": {}, "locals": {}, "variable": {}, "output": {}, "module": {}}
    for path in sorted(directory.glob("*.tf")):
        parsed = load(path)
        for block in parsed.get("resource", []) + parsed.get("data", []):
            kind = "resource" if block in parsed.get("resource", []) else "data"
            for rtype, named in block.items():
                for name, body in named.items():
                    out[kind][f"{rtype}.{name}"] = body
        for block in parsed.get("locals", []):
            out["locals"].update(block)
        for key in ("variable", "output", "module"):
            for block in parsed.get(key, []):
                out[key].update(block)
    return out


TF = merged(MODULE)
LOCALS = TF["locals"]
# The custom source (registration and location), shared with the direct path.
SOURCE = merged(MODULE / "modules" / "custom_source")
DIRECT = merged(MODULE / "modules" / "direct_source")


def ref(expr):
    """`${local.defaults.a.b}` -> the default value; other expressions are returned as text."""
    match = re.fullmatch(r"\$\{local\.defaults\.([\w.]+)\}", str(expr))
    if not match:
        return expr
    value = DEFAULTS
    for key in match.group(1).split("."):
        value = value[key]
    return value


def only(block_list):
    assert isinstance(block_list, list) and len(block_list) == 1, block_list
    return block_list[0]


def dynamic(body, name):
    for block in body.get("dynamic", []):
        if name in block:
            return block[name]
    raise KeyError(name)


STREAM = TF["resource"]["aws_kinesis_firehose_delivery_stream.this"]
S3 = only(STREAM["extended_s3_configuration"])


def firehose_statements():
    doc = TF["data"]["aws_iam_policy_document.firehose"]
    statements = list(doc.get("statement", []))
    statements += [only(d["statement"]["content"]) for d in doc.get("dynamic", []) if "statement" in d]
    return statements


def terraform_console(expression, bindings):
    """What `terraform console` computes for a module expression (`${…}` text from python-hcl2) once
    each reference in `bindings` is replaced by its value: pure functions need no provider."""
    body = expression.removeprefix("${").removesuffix("}")
    for name, value in bindings.items():
        body = re.sub(re.escape(name) + r"(?![\w.\[])", json.dumps(value), body)
    assert not re.search(r"\b(var|local|aws_\w+)\.", body), f"unbound reference in {body}"
    binary = pathlib.Path(sys.executable).parent / "terraform"
    binary = str(binary) if binary.exists() else shutil.which("terraform")
    with tempfile.TemporaryDirectory() as empty:
        out = subprocess.run([binary, "console"], input=body, cwd=empty, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def console_json(expression, bindings):
    """`terraform_console` of an expression whose value holds objects (console prints those as
    HCL): through `jsonencode`."""
    inner = expression.removeprefix("${").removesuffix("}")
    return json.loads(terraform_console("${jsonencode(" + inner + ")}", bindings))


def test_prefix_is_exactly_the_security_lake_layout_from_the_shared_defaults():
    assert DEFAULTS["sourceLocationTemplate"] == "ext/{source}/"
    assert DEFAULTS["partitionTemplate"] == (
        "region=!{partitionKeyFromLambda:region}/accountId=!{partitionKeyFromLambda:accountId}"
        "/eventDay=!{partitionKeyFromLambda:eventDay}/"
    )
    assert LOCALS["prefix"] == "${local.source_location}${local.defaults.partitionTemplate}"
    assert S3["prefix"] == "${local.prefix}"
    assert only(S3["dynamic_partitioning_configuration"])["enabled"] is True
    assert ref(only(S3["dynamic_partitioning_configuration"])["retry_duration"]) == 300


SOURCE_LOCATION_CASES = [
    (False, None, "ext/my-auth/"),
    (True, "s3://aws-security-data-lake-us-east-1-abc/ext/my-auth/", "ext/my-auth/"),
    # A location with one more level (e.g. the source version) or without the trailing slash.
    (True, "s3://aws-security-data-lake-us-east-1-abc/ext/my-auth/1.0/", "ext/my-auth/1.0/"),
    (True, "s3://aws-security-data-lake-us-east-1-abc/ext/my-auth", "ext/my-auth/"),
]


@pytest.mark.parametrize("registered,location,expected", SOURCE_LOCATION_CASES)
def test_source_location_is_the_registered_provider_location(registered, location, expected):
    locals_ = SOURCE["locals"]
    assert locals_["registered_location"] == (
        "${var.register ? "
        "aws_securitylake_custom_log_source.this[0].provider_details[0].location : null}"
    )
    bindings = {
        "var.register": registered,
        "local.registered_location": location or "",
        "local.defaults.sourceLocationTemplate": DEFAULTS["sourceLocationTemplate"],
        "var.source_name": "my-auth",
    }
    assert terraform_console(locals_["source_location"], bindings) == expected
    assert LOCALS["source_location"] == "${module.custom_source.source_location}"
    for module in (TF["module"]["custom_source"], DIRECT["module"]["custom_source"]):
        assert module["source"] in ("./modules/custom_source", "../custom_source")
    table = only(TF["resource"]["aws_glue_catalog_table.this"]["storage_descriptor"])
    assert table["location"] == "s3://${var.lake_bucket_name}/${local.source_location}"


def test_error_prefix_is_outside_ext_and_names_the_error_type():
    template = DEFAULTS["errorPrefixTemplate"]
    assert not template.startswith("ext/") and "!{firehose:error-output-type}" in template
    assert LOCALS["error_prefix"] == '${replace(local.defaults.errorPrefixTemplate, "{source}", var.source_name)}'
    assert S3["error_output_prefix"] == "${local.error_prefix}"


@pytest.mark.parametrize("source_type,aggregation,expected", [
    ("direct_put", True, ["RecordDeAggregation", "Lambda"]),
    ("kinesis_new", True, ["RecordDeAggregation", "Lambda"]),
    ("direct_put", False, ["Lambda"]),
    # CloudWatch Logs batches: Firehose gunzips them and keeps the messages; no de-aggregation.
    ("cloudwatch_logs", True, ["Decompression", "CloudWatchLogProcessing", "Lambda"]),
    ("cloudwatch_logs", False, ["Decompression", "CloudWatchLogProcessing", "Lambda"]),
])
def test_processors_by_source(source_type, aggregation, expected):
    bindings = {
        "local.cloudwatch_source": source_type == "cloudwatch_logs",
        "var.aggregation": aggregation,
        "local.cloudwatch_processors": LOCALS["cloudwatch_processors"],
        "local.deaggregation_processor": {"type": "RecordDeAggregation", "parameters": {"SubRecordType": "JSON"}},
        "local.lambda_processor": {"type": "Lambda", "parameters": {"LambdaArn": "arn", "NumberOfRetries": "3"}},
    }
    # hcl2 prints references inside lists as templates, quoted or not.
    body = re.sub(r"'?\$\{([^{}]*)\}'?", r"(\1)", LOCALS["processors"][2:-1])
    processors = console_json("${" + body + "}", bindings)
    assert [p["type"] for p in processors] == expected
    if source_type == "cloudwatch_logs":
        assert processors[:2] == [
            {"type": "Decompression", "parameters": {"CompressionFormat": "GZIP"}},
            {"type": "CloudWatchLogProcessing", "parameters": {"DataMessageExtraction": "true"}},
        ]
    assert console_json(LOCALS["cloudwatch_source"], {"var.source_type": source_type}) == (source_type == "cloudwatch_logs")
    assert console_json(LOCALS["kinesis_source"], {"var.source_type": source_type}) == source_type.startswith("kinesis")


def test_processors_deaggregate_before_the_lambda_only_when_aggregating():
    deagg = LOCALS["deaggregation_processor"]
    assert deagg["type"] == "RecordDeAggregation"
    assert ref(deagg["parameters"]["SubRecordType"]) == "JSON"
    lam = LOCALS["lambda_processor"]
    assert lam["type"] == "Lambda"
    assert set(lam["parameters"]) == {"LambdaArn", "BufferSizeInMBs", "BufferIntervalInSeconds", "NumberOfRetries"}
    processing = only(S3["processing_configuration"])
    assert processing["enabled"] is True
    assert dynamic(processing, "processors")["for_each"] == "${local.processors}"


def test_parquet_through_openx_with_the_generated_table_and_s3_uncompressed():
    assert ref(S3["compression_format"]) == "UNCOMPRESSED"
    conversion = only(S3["data_format_conversion_configuration"])
    assert conversion["enabled"] is True
    deserializer = only(only(conversion["input_format_configuration"])["deserializer"])
    assert list(deserializer) == ["open_x_json_ser_de"]
    serializer = only(only(conversion["output_format_configuration"])["serializer"])
    parquet = only(serializer["parquet_ser_de"])
    assert {key: ref(value) for key, value in parquet.items()} == {
        "compression": "SNAPPY",
        "block_size_bytes": 256 * 1024 * 1024,
        "page_size_bytes": 768 * 1024,  # under Security Lake's 1 MB page limit with room
        "writer_version": "V1",
        "enable_dictionary_compression": True,
    }
    schema = only(conversion["schema_configuration"])
    assert schema["table_name"] == "${aws_glue_catalog_table.this.name}"
    table = TF["resource"]["aws_glue_catalog_table.this"]
    columns = dynamic(only(table["storage_descriptor"]), "columns")
    assert columns["for_each"] == "${local.schema.columns}"
    assert LOCALS["schema"] == "${jsondecode(file(var.schema_file))}"
    # The table's name is the generated schema's (`win_registry_key_query_1_3_0` for an extension
    # class, whose class name holds a `/`), never rebuilt here.
    assert table["name"] == "${local.table_name}"
    assert LOCALS["table_name"] == "${local.schema.table_name}"


def test_buffering_defaults_come_from_the_shared_file_and_stay_at_least_64_mib():
    assert LOCALS["buffering_size"] == "${coalesce(var.buffering_size_mib, local.defaults.bufferingSizeMiB)}"
    assert S3["buffering_size"] == "${local.buffering_size}"
    assert S3["buffering_interval"] == "${local.buffering_interval}"
    assert DEFAULTS["bufferingSizeMiB"] >= DEFAULTS["minBufferingSizeMiB"] == 64
    validation = only(TF["variable"]["buffering_size_mib"]["validation"])
    assert ">= 64" in validation["condition"] and "<= 128" in validation["condition"]


def test_sources_direct_put_encrypted_or_kinesis():
    assert dynamic(STREAM, "server_side_encryption")["for_each"] == "${local.kinesis_source ? [] : [1]}"
    sse = only(dynamic(STREAM, "server_side_encryption")["content"])
    assert sse["key_type"] == "CUSTOMER_MANAGED_CMK"
    kinesis = dynamic(STREAM, "kinesis_source_configuration")
    assert kinesis["for_each"] == "${local.kinesis_source ? [1] : []}"
    stream = TF["resource"]["aws_kinesis_stream.this"]
    assert stream["encryption_type"] == "KMS" and stream["kms_key_id"] == "${local.kms_key_arn}"
    assert "kinesis_new" in stream["count"]
    condition = only(TF["variable"]["source_type"]["validation"])["condition"]
    listed = re.search(r"contains\(\[(.*?)\]", condition).group(1)
    assert {v.strip(" '\"") for v in listed.split(",")} == {"direct_put", "kinesis_new", "kinesis_existing", "cloudwatch_logs"}


def test_cloudwatch_logs_subscribes_each_group_through_a_role_that_may_only_put_into_the_stream():
    filters = TF["resource"]["aws_cloudwatch_log_subscription_filter.this"]
    groups = console_json(filters["for_each"], {"local.cloudwatch_source": True, "var.log_group_names": ["/a", "/b"]})
    assert sorted(groups) == ["/a", "/b"]
    assert console_json(filters["for_each"], {"local.cloudwatch_source": False, "var.log_group_names": ["/a"]}) == []
    assert filters["destination_arn"] == "${aws_kinesis_firehose_delivery_stream.this.arn}"
    assert filters["role_arn"] == "${aws_iam_role.logs[0].arn}"
    assert filters["depends_on"] == ["${aws_iam_role_policy.logs}"]
    role = TF["resource"]["aws_iam_role.logs"]
    assert only(only(role["lifecycle"])["precondition"])["condition"] == "${length(var.log_group_names) > 0}"
    bindings = {
        "local.account_id": "123456789012", "local.partition": "aws", "local.region": "us-east-1",
        "aws_kinesis_firehose_delivery_stream.this.arn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/x",
    }
    trust = only(json.loads(terraform_console(role["assume_role_policy"], bindings))["Statement"])
    assert trust["Principal"] == {"Service": "logs.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:123456789012:*"},
    }
    policy = json.loads(terraform_console(TF["resource"]["aws_iam_role_policy.logs"]["policy"], bindings))
    statement = only(policy["Statement"])
    assert statement["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
    assert statement["Resource"] == [bindings["aws_kinesis_firehose_delivery_stream.this.arn"]]


def test_custom_source_registration_is_optional_and_names_are_short():
    source = SOURCE["resource"]["aws_securitylake_custom_log_source.this"]
    assert source["count"] == "${var.register ? 1 : 0}"
    assert source["source_name"] == "${var.source_name}"
    for module in (TF, DIRECT):
        assert module["module"]["custom_source"]["register"] == "${var.register_custom_source}"
        assert "{1,20}" in only(module["variable"]["source_name"]["validation"])["condition"]
    assert DEFAULTS["maxSourceNameLength"] == 20


def test_the_direct_writer_may_only_put_objects_under_the_source_location():
    policy = DIRECT["data"]["aws_iam_policy_document.writer"]
    write = only(policy["statement"])
    assert write["actions"] == ["s3:PutObject", "s3:AbortMultipartUpload"]
    resource = only(write["resources"])
    bindings = {"data.aws_partition.current.partition": "aws", "var.lake_bucket_name": "lake",
                "module.custom_source.source_location": "ext/my-flows/"}
    bindings["local.bucket_arn"] = terraform_console(f'"{DIRECT["locals"]["bucket_arn"]}"', bindings)
    # A template string: evaluated as an HCL string literal.
    assert terraform_console(f'"{resource}"', bindings) == "arn:aws:s3:::lake/ext/my-flows/*"
    # The lake key's statement: tests/test_access.py.
    assert not any(k.startswith(("aws_kinesis_firehose", "aws_lambda", "aws_glue")) for k in DIRECT["resource"])
    assert set(DIRECT["output"]) == {"source_location", "source_uri", "writer_policy_arn"}


def test_firehose_role_is_least_privilege():
    statements = firehose_statements()
    writes = [s for s in statements if "s3:PutObject" in s["actions"]]
    assert len(writes) == 1 and writes[0]["resources"] == [
        "${local.bucket_arn}/${local.source_location}*",
        "${local.bucket_arn}/errors/${var.source_name}/*",
    ]
    deny = [s for s in statements if s.get("effect") == "Deny"]
    assert only(only(deny)["condition"])["variable"] == "aws:SecureTransport"
    allowed = {a for s in statements if s.get("effect", "Allow") == "Allow" for a in s["actions"]}
    assert not any(a.endswith("*") for a in allowed), allowed
    lambda_policy = TF["data"]["aws_iam_policy_document.lambda_logs"]
    assert [a for s in lambda_policy["statement"] for a in s["actions"]] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    attached = [k for k in TF["resource"] if k.startswith("aws_iam_role_policy_attachment.")]
    assert attached == [], "the Lambda role has no managed policy"
    crawler = [k for k in SOURCE["resource"] if k.startswith("aws_iam_role_policy_attachment.")]
    assert crawler == ["aws_iam_role_policy_attachment.crawler"]


def test_encryption_everywhere():
    assert TF["resource"]["aws_kms_key.this"]["enable_key_rotation"] is True
    assert TF["resource"]["aws_cloudwatch_log_group.delivery"]["count"] == "${var.delivery_log_group_name == null ? 1 : 0}"
    assert only(S3["cloudwatch_logging_options"])["log_group_name"] == "${local.delivery_log_group}"
    for group in ("aws_cloudwatch_log_group.function", "aws_cloudwatch_log_group.delivery"):
        assert TF["resource"][group]["kms_key_id"] == "${local.kms_key_arn}"
    assert TF["resource"]["aws_lambda_function.transform"]["kms_key_arn"] == "${local.kms_key_arn}"
    assert S3["kms_key_arn"] == "${local.kms_key_arn}"


@pytest.mark.parametrize("extra,expected", [
    (None, ""),
    ([], ""),
    (["actor.process.cmd_line", "user.email_addr"], "actor.process.cmd_line,user.email_addr"),
])
def test_the_schemas_extra_columns_reach_the_lambda(extra, expected):
    schema = {"class_uid": 3002} if extra is None else {"class_uid": 3002, "extra_columns": extra}
    # `local.schema` is an object whose attribute is read: bound as a parenthesized literal.
    expression = LOCALS["table_columns"].replace("local.schema.", f"({json.dumps(schema)}).")
    assert terraform_console(expression, {}) == expected
    env = LOCALS["lambda_environment"]
    assert """local.table_columns == "" ? {} : {'OCSF_TABLE_COLUMNS': '${local.table_columns}'}""" in env, env


def test_lambda_environment_and_alarms():
    env = LOCALS["lambda_environment"]
    for key in ("OCSF_VERSION", "OCSF_ALLOWED_CLASSES", "OCSF_TABLE_PROFILES", "OCSF_METRICS_NAMESPACE",
                "OCSF_TABLE_COLUMNS"):
        assert key in env
    function = TF["resource"]["aws_lambda_function.transform"]
    assert ref(function["runtime"]) == "provided.al2023" and ref(function["handler"]) == "bootstrap"
    # A layer with the user's schema file (OCSF_EXTENSIONS), none by default.
    assert function["layers"] == "${var.lambda_layers}"
    assert TF["variable"]["lambda_layers"]["default"] == []
    assert TF["resource"]["aws_cloudwatch_metric_alarm.this"]["for_each"] == "${local.alarms}"
    alarms = LOCALS["alarms"]
    assert {(ref(a["namespace"]), a["metric_name"]) for a in alarms.values()} == {
        ("OcsfFirehose", "RecordsFailed"), ("AWS/Lambda", "Errors"), ("AWS/Firehose", "DeliveryToS3.DataFreshness")
    }


@pytest.mark.parametrize("example", ["direct_put", "kinesis"])
def test_examples_use_the_module_with_committed_schemas(example):
    directory = MODULE / "examples" / example
    module = next(iter(merged(directory)["module"].values()))
    assert module["source"] == "../.."
    schema = module["schema_file"].replace("${path.module}", str(directory))
    assert pathlib.Path(schema).resolve().is_file(), schema


def cfn_evaluate(expr, attributes):
    """The value CloudFormation computes for Fn::Join/Select/Split over Fn::GetAtt `attributes`."""
    if isinstance(expr, list):
        return [cfn_evaluate(e, attributes) for e in expr]
    if not isinstance(expr, dict):
        return expr
    ((fn, args),) = expr.items()
    if fn == "Fn::GetAtt":
        return attributes[".".join(args)]
    if fn == "Fn::Join":
        return args[0].join(cfn_evaluate(args[1], attributes))
    if fn == "Fn::Select":
        return cfn_evaluate(args[1], attributes)[int(args[0])]
    if fn == "Fn::Split":
        return cfn_evaluate(args[1], attributes).split(args[0])
    raise AssertionError(f"unexpected {fn}")


def cdk_template():
    path = CDK_OUT / "OcsfAuthenticationDirectPut.template.json"
    if not path.exists():
        if os.environ.get("REQUIRE_CDK_OUT"):
            pytest.fail(f"{path} is missing: synthesize the CDK app first")
        pytest.skip("the CDK app is not synthesized")
    return json.loads(path.read_text())


def test_the_cdk_template_has_the_same_settings_and_actions():
    template = cdk_template()
    resources = template["Resources"]
    stream = next(r for r in resources.values() if r["Type"] == "AWS::KinesisFirehose::DeliveryStream")
    d = stream["Properties"]["ExtendedS3DestinationConfiguration"]
    # The app registers its sources: the prefix is computed from the returned provider location.
    registration = next(k for k, r in resources.items() if r["Type"] == "Custom::AWS")
    location = {f"{registration}.source.provider.location": "s3://aws-security-data-lake-us-east-1-example/ext/ocsf-auth/"}
    assert cfn_evaluate(d["Prefix"], location) == "ext/ocsf-auth/" + DEFAULTS["partitionTemplate"]
    assert d["ErrorOutputPrefix"] == DEFAULTS["errorPrefixTemplate"].replace("{source}", "ocsf-auth")
    assert [p["Type"] for p in d["ProcessingConfiguration"]["Processors"]] == ["RecordDeAggregation", "Lambda"]
    assert d["BufferingHints"]["SizeInMBs"] == DEFAULTS["bufferingSizeMiB"]
    assert d["CompressionFormat"] == DEFAULTS["s3CompressionFormat"]
    cdk_parquet = d["DataFormatConversionConfiguration"]["OutputFormatConfiguration"]["Serializer"]["ParquetSerDe"]
    tf_conversion = only(S3["data_format_conversion_configuration"])
    tf_parquet = only(only(only(tf_conversion["output_format_configuration"])["serializer"])["parquet_ser_de"])
    # The same ParquetSerDe settings: CloudFormation's PascalCase names, Terraform's snake_case.
    assert {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): v for k, v in cdk_parquet.items()} == {
        k: ref(v) for k, v in tf_parquet.items()
    }
    cdk_actions = set()
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Policy" and logical_id.startswith("PipelineFirehoseRole"):
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                cdk_actions.update((statement["Effect"], a) for a in actions)
    tf_actions = {
        (s.get("effect", "Allow"), a)
        for s in firehose_statements()
        if s.get("sid") not in ("ReadTheStream", "DecryptTheStreamThroughKinesis")  # Direct PUT template: no stream
        for a in s["actions"]
    }
    assert tf_actions == cdk_actions


def test_the_dashboard_is_on_by_default_and_built_from_the_shared_widget_list():
    """The same dashboard as the CDK construct's: one graph per widget of infra/defaults.json
    (whose metric names the Rust contract test checks against the Lambda's and Firehose's), each
    metric selected by this pipeline's FunctionName or DeliveryStreamName."""
    dashboard = TF["resource"]["aws_cloudwatch_dashboard.this"]
    assert dashboard["count"] == "${var.dashboard ? 1 : 0}"
    assert TF["variable"]["dashboard"]["default"] is True
    assert dashboard["dashboard_name"] == "ocsf-${var.source_name}"
    assert dashboard["dashboard_body"] == '${jsonencode({"widgets": "${local.dashboard_widgets}"})}'
    widgets = str(LOCALS["dashboard_widgets"])
    assert widgets.startswith("${[for index , widget in local.dashboard_specs : {")
    for needle in (
        "['${local.defaults.metricsNamespace}', '${name}', 'FunctionName', '${local.dashboard_function}']",
        "['AWS/Firehose', '${name}', 'DeliveryStreamName', '${local.dashboard_stream}']",
        "format(local.dashboard_search, widget.byDimension, name, widget.stat)",
        '"title": "${widget.title}"',
        '"stat": "${widget.stat}"',
        '"region": "${local.region}"',
    ):
        assert needle in widgets, needle
    assert LOCALS["dashboard_function"] == "${aws_lambda_function.transform.function_name}"
    assert LOCALS["dashboard_stream"] == "${aws_kinesis_firehose_delivery_stream.this.name}"
    assert LOCALS["dashboard_period"] == "${local.defaults.dashboard.periodSeconds}"
    assert LOCALS["dashboard_search"] == (
        "SEARCH('{${local.defaults.metricsNamespace},FunctionName,%s} MetricName=\"%s\" "
        "FunctionName=\"${local.dashboard_function}\"', '%s', ${local.dashboard_period})"
    )
    assert DEFAULTS["dashboard"]["widgets"], "the shared list is not empty"


def test_the_producer_graphs_are_drawn_only_from_the_namespace_the_application_exports_to():
    """The producer's widgets of infra/defaults.json need the application's namespace
    (var.producer_metrics_namespace, default null: not drawn); their metrics are SEARCHed by name
    there, whatever the application's dimensions, as the CDK construct does."""
    variable = TF["variable"]["producer_metrics_namespace"]
    assert variable["default"] is None and variable["type"] == "string"
    period = DEFAULTS["dashboard"]["periodSeconds"]
    producer = [w for w in DEFAULTS["dashboard"]["widgets"] if w["source"] == "producer"]
    for namespace in (None, "MyApp/Producer"):
        specs = console_json(LOCALS["dashboard_specs"], {
            "local.defaults.dashboard.widgets": DEFAULTS["dashboard"]["widgets"],
            "var.producer_metrics_namespace": namespace,
        })
        titles = [spec["title"] for spec in specs]
        expected = [w["title"] for w in DEFAULTS["dashboard"]["widgets"] if namespace or w["source"] != "producer"]
        assert titles == expected
    # One producer line, as the module formats it (the same text as the CDK construct's).
    widgets = str(LOCALS["dashboard_widgets"])
    line = 'format(local.dashboard_producer_search, coalesce(var.producer_metrics_namespace, "-"), name, widget.stat)'
    assert line in widgets
    search = terraform_console(json.dumps(LOCALS["dashboard_producer_search"]), {"local.dashboard_period": period})
    expression = terraform_console("${" + line + "}", {
        "local.dashboard_producer_search": search,
        "var.producer_metrics_namespace": "MyApp/Producer",
        "name": producer[0]["metrics"][0],
        "widget.stat": producer[0]["stat"],
    })
    assert expression == (
        f"SEARCH('Namespace=\"MyApp/Producer\" MetricName=\"{producer[0]['metrics'][0]}\"', "
        f"'{producer[0]['stat']}', {period})"
    )
    assert LOCALS["dashboard_producer_search"] == (
        "SEARCH('Namespace=\"%s\" MetricName=\"%s\"', '%s', ${local.dashboard_period})"
    )
    assert producer and all(m.startswith("ocsf_producer_") for w in producer for m in w["metrics"])
