# The pipeline's CloudWatch dashboard, built from the widget list in infra/defaults.json (the CDK
# construct builds the same one): the transformation Lambda's EMF metrics, the delivery stream's
# AWS/Firehose metrics and, where the application exports them (var.producer_metrics_namespace),
# the producer's, two graphs per row. The metric names are checked against what
# the Lambda emits and Firehose reports (crates/transform/tests/contract.rs).

locals {
  dashboard_period   = local.defaults.dashboard.periodSeconds
  dashboard_function = aws_lambda_function.transform.function_name
  dashboard_stream   = aws_kinesis_firehose_delivery_stream.this.name
  # CloudWatch SEARCH of one metric per value of a dimension: dimension, metric name, statistic.
  dashboard_search = "SEARCH('{${local.defaults.metricsNamespace},FunctionName,%s} MetricName=\"%s\" FunctionName=\"${local.dashboard_function}\"', '%s', ${local.dashboard_period})"
  # The producer's metrics, searched by name in the application's namespace whatever their
  # dimensions: namespace, metric name, statistic.
  dashboard_producer_search = "SEARCH('Namespace=\"%s\" MetricName=\"%s\"', '%s', ${local.dashboard_period})"
  # The producer's graphs only where the application exports its metrics.
  dashboard_specs = [for widget in local.defaults.dashboard.widgets : widget if widget.source != "producer" || var.producer_metrics_namespace != null]
  dashboard_widgets = [
    for index, widget in local.dashboard_specs : {
      type   = "metric"
      x      = (index % 2) * 12
      y      = floor(index / 2) * 6
      width  = 12
      height = 6
      properties = {
        title  = widget.title
        region = local.region
        view   = "timeSeries"
        stat   = widget.stat
        period = local.dashboard_period
        # One line per metric: by FunctionName or DeliveryStreamName, or, for a metric plotted
        # per value of an EMF dimension (Findings by code) and for the producer's, a SEARCH
        # expression.
        metrics = [
          for name in widget.metrics : jsondecode(widget.source == "producer" ? jsonencode([{ expression = format(local.dashboard_producer_search, coalesce(var.producer_metrics_namespace, "-"), name, widget.stat), label = name }]) : can(widget.byDimension) ? jsonencode([{ expression = format(local.dashboard_search, widget.byDimension, name, widget.stat), label = name }]) : jsonencode(widget.source == "lambda" ? [local.defaults.metricsNamespace, name, "FunctionName", local.dashboard_function] : ["AWS/Firehose", name, "DeliveryStreamName", local.dashboard_stream]))
        ]
      }
    }
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  count          = var.dashboard ? 1 : 0
  dashboard_name = "ocsf-${var.source_name}"
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
