# The direct path: a Security Lake custom source that applications write into themselves
# (ocsf-firehose's ProducerBuilder::s3, `ocsf-firehose upload`), without Firehose: the source,
# registered here or existing (../custom_source), and the least-privilege policy its writers
# need: s3:PutObject (multipart uploads included) and s3:AbortMultipartUpload on the source's
# location only, plus, when the lake bucket encrypts with a customer-managed key, that key's
# kms:GenerateDataKey and kms:Decrypt (multipart uploads) through S3 for that location only.

module "custom_source" {
  source               = "../custom_source"
  source_name          = var.source_name
  register             = var.register_custom_source
  source_version       = var.source_version
  event_classes        = var.event_classes
  provider_principal   = var.provider_principal
  provider_external_id = var.provider_external_id
  crawler_role_arn     = var.crawler_role_arn
  tags                 = var.tags
}

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.lake_bucket_name}"
}

data "aws_iam_policy_document" "writer" {
  statement {
    sid       = "WriteSecurityLakeObjects"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${local.bucket_arn}/${module.custom_source.source_location}*"]
  }

  dynamic "statement" {
    for_each = var.lake_kms_key_arn == null ? [] : [var.lake_kms_key_arn]
    content {
      sid       = "EncryptObjectsThroughS3"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}"]
      }
      condition {
        test     = "StringLike"
        variable = "kms:EncryptionContext:aws:s3:arn"
        values   = [local.bucket_arn, "${local.bucket_arn}/${module.custom_source.source_location}*"]
      }
    }
  }
}

resource "aws_iam_policy" "writer" {
  name_prefix = "ocsf-direct-${var.source_name}-"
  description = "ocsf-firehose direct writer of custom source ${var.source_name}"
  policy      = data.aws_iam_policy_document.writer.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "writer" {
  for_each   = toset(var.writer_role_names)
  role       = each.value
  policy_arn = aws_iam_policy.writer.arn
}
