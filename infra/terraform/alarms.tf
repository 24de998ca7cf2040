# Alarms: records that failed the OCSF transformation (the Lambda's EMF metric, per function),
# failed Lambda invocations, and delivery falling behind.

locals {
  alarms = {
    failed-records = {
      description        = "records failed OCSF transformation (processing-failed/ in the error prefix)"
      namespace          = local.defaults.metricsNamespace
      metric_name        = "RecordsFailed"
      dimensions         = { FunctionName = aws_lambda_function.transform.function_name }
      statistic          = "Sum"
      evaluation_periods = 1
      threshold          = 0
    }
    function-errors = {
      description        = "transformation Lambda invocations failed (Firehose retries, then fails the batch)"
      namespace          = "AWS/Lambda"
      metric_name        = "Errors"
      dimensions         = { FunctionName = aws_lambda_function.transform.function_name }
      statistic          = "Sum"
      evaluation_periods = 1
      threshold          = 0
    }
    delivery-freshness = {
      description        = "the oldest record waits for S3 delivery longer than 3 buffer intervals"
      namespace          = "AWS/Firehose"
      metric_name        = "DeliveryToS3.DataFreshness"
      dimensions         = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.this.name }
      statistic          = "Maximum"
      evaluation_periods = 2
      threshold          = 3 * local.buffering_interval
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "ocsf-${var.source_name}-${each.key}"
  alarm_description   = "${var.source_name}: ${each.value.description}"
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = each.value.evaluation_periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  tags                = var.tags
}
