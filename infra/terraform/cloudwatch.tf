# source_type = "cloudwatch_logs": a subscription filter per log group puts its events into the
# delivery stream (Direct PUT), through a role only CloudWatch Logs of this account may assume and
# that may only put into this stream. Firehose's processors unpack the batches (main.tf).

resource "aws_iam_role" "logs" {
  count       = local.cloudwatch_source ? 1 : 0
  name_prefix = "ocsf-${var.source_name}-logs-"
  description = "CloudWatch Logs puts subscribed log events into the delivery stream"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:*" }
      }
    }]
  })
  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(var.log_group_names) > 0
      error_message = "source_type = cloudwatch_logs needs log_group_names."
    }
  }
}

resource "aws_iam_role_policy" "logs" {
  count = local.cloudwatch_source ? 1 : 0
  name  = "put-log-events"
  role  = aws_iam_role.logs[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "PutLogEvents"
      Effect   = "Allow"
      Action   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
      Resource = [aws_kinesis_firehose_delivery_stream.this.arn]
    }]
  })
}

resource "aws_cloudwatch_log_subscription_filter" "this" {
  for_each        = local.cloudwatch_source ? toset(var.log_group_names) : toset([])
  name            = "ocsf-${var.source_name}"
  log_group_name  = each.value
  filter_pattern  = var.log_filter_pattern
  destination_arn = aws_kinesis_firehose_delivery_stream.this.arn
  role_arn        = aws_iam_role.logs[0].arn

  # CloudWatch Logs checks at creation that the role may put into the stream.
  depends_on = [aws_iam_role_policy.logs]
}
