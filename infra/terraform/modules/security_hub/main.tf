# The Security Hub preset: AWS Security Hub's OCSF findings into Security Lake custom sources, one
# per finding class. For each class, an EventBridge rule takes its "Findings Imported V2" events
# and hands each event's one finding (detail.findings[0]) to the class's pipeline (the root
# module: Firehose Direct PUT -> the Lambda translating OCSF 1.6 to the preset's release -> Parquet
# under ext/<source>/). The classes, source names and release are ../../../presets/security-hub.json,
# shared with the CDK construct (SecurityHubFindingsPipeline) and the end-to-end test.

data "aws_caller_identity" "current" {}

locals {
  preset      = jsondecode(file("${path.module}/../../../presets/security-hub.json"))
  schemas_dir = "${path.module}/../../../schemas/${local.preset.ocsfVersion}"
  # The preset's classes (all, or those of var.class_uids), by class_uid.
  classes = {
    for c in local.preset.classes : tostring(c.classUid) => c
    if var.class_uids == null || contains(coalesce(var.class_uids, []), c.classUid)
  }
  event_patterns = {
    for uid, c in local.classes : uid => jsonencode({
      source        = [local.preset.eventSource]
      "detail-type" = [local.preset.detailType]
      detail        = { findings = { class_uid = [c.classUid] } }
    })
  }
}

module "pipeline" {
  source   = "../.."
  for_each = local.classes

  lake_bucket_name    = var.lake_bucket_name
  source_name         = each.value.sourceName
  schema_file         = "${local.schemas_dir}/${one(fileset(local.schemas_dir, "${each.key}-*.json"))}"
  lambda_zip          = var.lambda_zip
  lambda_architecture = var.lambda_architecture
  lambda_environment  = var.lambda_environment
  source_type         = "direct_put"
  # EventBridge puts one finding per record: nothing to de-aggregate.
  aggregation            = false
  kms_key_arn            = var.kms_key_arn
  alarm_topic_arn        = var.alarm_topic_arn
  register_custom_source = var.register_custom_source
  event_classes          = [each.value.eventClass]
  provider_principal     = var.provider_principal
  provider_external_id   = var.provider_external_id
  crawler_role_arn       = var.crawler_role_arn
  dashboard              = var.dashboard
  tags                   = var.tags
}

resource "aws_iam_role" "events" {
  for_each    = local.classes
  name_prefix = "ocsf-${each.value.sourceName}-events-"
  description = "EventBridge puts Security Hub class ${each.key} findings into ${each.value.sourceName}'s delivery stream"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "events" {
  for_each = local.classes
  name     = "put-findings"
  role     = aws_iam_role.events[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "PutFindings"
      Effect   = "Allow"
      Action   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
      Resource = [module.pipeline[each.key].delivery_stream_arn]
    }]
  })
}

resource "aws_cloudwatch_event_rule" "findings" {
  for_each       = local.classes
  name_prefix    = "ocsf-${each.value.sourceName}-"
  description    = "Security Hub OCSF findings of class ${each.key} into the custom source ${each.value.sourceName}"
  event_bus_name = var.event_bus_name
  event_pattern  = local.event_patterns[each.key]
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "findings" {
  for_each       = local.classes
  rule           = aws_cloudwatch_event_rule.findings[each.key].name
  event_bus_name = var.event_bus_name
  arn            = module.pipeline[each.key].delivery_stream_arn
  role_arn       = aws_iam_role.events[each.key].arn
  input_path     = local.preset.findingPath
}
