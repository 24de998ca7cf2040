# Least privilege: the Lambda may only write its logs; Firehose may write only the data and
# error prefixes of this source, read only its Glue table, invoke only its Lambda, use only the
# key, write only its log stream and (with a Kinesis source) read only its stream.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name_prefix        = "ocsf-transform-"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "lambda_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }
}

resource "aws_iam_role_policy" "lambda_logs" {
  name   = "logs"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda_logs.json
}

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name_prefix        = "ocsf-firehose-"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid     = "WriteOnlyTheSourcePrefixes"
    actions = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    resources = [
      "${local.bucket_arn}/${local.source_location}*",
      "${local.bucket_arn}/errors/${var.source_name}/*",
    ]
  }
  statement {
    sid       = "Bucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [local.bucket_arn]
  }
  statement {
    sid     = "TlsOnly"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      local.bucket_arn,
      "${local.bucket_arn}/${local.source_location}*",
      "${local.bucket_arn}/errors/${var.source_name}/*",
    ]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
  statement {
    sid     = "GlueTable"
    actions = ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]
    resources = [
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${local.database_name}",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${local.database_name}/${local.table_name}",
    ]
  }
  statement {
    sid       = "InvokeTheTransform"
    actions   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
    resources = [aws_lambda_function.transform.arn, "${aws_lambda_function.transform.arn}:*"]
  }
  # SSE-KMS through S3 only, for the two prefixes (or the bucket, when it uses an S3 Bucket Key):
  # GenerateDataKey per object, Decrypt for multipart uploads
  # (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3).
  statement {
    sid       = "EncryptObjectsThroughS3"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.${local.url_suffix}"]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values = [
        local.bucket_arn,
        "${local.bucket_arn}/${local.source_location}*",
        "${local.bucket_arn}/errors/${var.source_name}/*",
      ]
    }
  }
  statement {
    sid       = "DeliveryLogs"
    actions   = ["logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.delivery_log_group}:log-stream:${local.delivery_log_stream}"]
  }
  dynamic "statement" {
    for_each = local.kinesis_source ? [1] : []
    content {
      sid       = "ReadTheStream"
      actions   = ["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
      resources = [local.kinesis_stream_arn]
    }
  }
  # The stream's key, through Kinesis only
  # (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html).
  dynamic "statement" {
    for_each = local.kinesis_key_arn == null ? [] : [local.kinesis_key_arn]
    content {
      sid       = "DecryptTheStreamThroughKinesis"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["kinesis.${local.region}.${local.url_suffix}"]
      }
    }
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "delivery"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}
