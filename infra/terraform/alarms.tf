# Alarms: records that failed the OCSF transformation (the Lambda's EMF metric, per function),
# failed Lambda invocations, and delivery falling behind.

resource "aws_cloudwatch_metric_alarm" "failed_records" {
  alarm_name          = "ocsf-${var.source_name}-failed-records"
  alarm_description   = "${var.source_name}: records failed OCSF transformation (processing-failed/ in the error prefix)"
  namespace           = local.defaults.metricsNamespace
  metric_name         = "RecordsFailed"
  dimensions          = { FunctionName = aws_lambda_function.transform.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  alarm_name          = "ocsf-${var.source_name}-function-errors"
  alarm_description   = "${var.source_name}: transformation Lambda invocations failed (Firehose retries, then fails the batch)"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.transform.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "delivery_freshness" {
  alarm_name          = "ocsf-${var.source_name}-delivery-freshness"
  alarm_description   = "${var.source_name}: the oldest record waits for S3 delivery longer than 3 buffer intervals"
  namespace           = "AWS/Firehose"
  metric_name         = "DeliveryToS3.DataFreshness"
  dimensions          = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.this.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = 3 * local.buffering_interval
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  tags                = var.tags
}
