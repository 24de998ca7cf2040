/**
 * The pipeline's CloudWatch dashboard, built from the widget list in `infra/defaults.json` (the
 * Terraform module builds the same one): the transformation Lambda's EMF metrics (records by
 * result, findings by code, invocation time), the delivery stream's (S3 delivery success and
 * freshness, throttled records, processing, active partitions) and, where the application exports
 * them, the producer's (events delivered and given up, calls and resends, buffered bytes, time to
 * delivery). The metric names are checked against what the Lambda emits, Firehose reports and the
 * producer records (`crates/transform/tests/contract.rs`).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { DashboardWidgetSpec, DEFAULTS } from './defaults';

/** What the dashboard shows. */
export interface PipelineDashboardProps {
  /** The custom source's name (widget titles, dashboard name). */
  readonly sourceName: string;
  /** The transformation Lambda's name (the EMF metrics' `FunctionName` dimension). */
  readonly functionName: string;
  /** The delivery stream's name (`DeliveryStreamName`). */
  readonly deliveryStreamName: string;
  /**
   * The CloudWatch namespace the application exports the producer's metrics to (EMF, for
   * example), if it does: the producer's graphs are drawn then, each metric over every dimension
   * set the application gives it. @default no producer graphs
   */
  readonly producerMetricsNamespace?: string;
}

/** A metric searched by name in the producer's namespace, whatever its dimensions. */
function producerSearch(namespace: string, name: string, stat: string, period: Duration): cloudwatch.IMetric {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('Namespace="${namespace}" MetricName="${name}"', '${stat}', ${period.toSeconds()})`,
    label: name,
    period,
  });
}

function widgetMetrics(spec: DashboardWidgetSpec, props: PipelineDashboardProps, period: Duration): cloudwatch.IMetric[] {
  if (spec.source === 'producer') {
    const namespace = props.producerMetricsNamespace ?? '';
    return spec.metrics.map((name) => producerSearch(namespace, name, spec.stat, period));
  }
  if (spec.byDimension) {
    return spec.metrics.map(
      (name) =>
        new cloudwatch.MathExpression({
          expression:
            `SEARCH('{${DEFAULTS.metricsNamespace},FunctionName,${spec.byDimension}} ` +
            `MetricName="${name}" FunctionName="${props.functionName}"', '${spec.stat}', ${period.toSeconds()})`,
          label: name,
          period,
        }),
    );
  }
  return spec.metrics.map((name) =>
    spec.source === 'lambda'
      ? new cloudwatch.Metric({
          namespace: DEFAULTS.metricsNamespace,
          metricName: name,
          dimensionsMap: { FunctionName: props.functionName },
          statistic: spec.stat,
          period,
        })
      : new cloudwatch.Metric({
          namespace: 'AWS/Firehose',
          metricName: name,
          dimensionsMap: { DeliveryStreamName: props.deliveryStreamName },
          statistic: spec.stat,
          period,
        }),
  );
}

/** Creates the dashboard. */
export function pipelineDashboard(scope: Construct, id: string, props: PipelineDashboardProps): cloudwatch.Dashboard {
  const period = Duration.seconds(DEFAULTS.dashboard.periodSeconds);
  const dashboard = new cloudwatch.Dashboard(scope, id, { dashboardName: `ocsf-${props.sourceName}` });
  const specs = DEFAULTS.dashboard.widgets.filter(
    (spec) => spec.source !== 'producer' || props.producerMetricsNamespace !== undefined,
  );
  const widgets = specs.map(
    (spec) => new cloudwatch.GraphWidget({ title: spec.title, left: widgetMetrics(spec, props, period), width: 12 }),
  );
  for (let i = 0; i < widgets.length; i += 2) dashboard.addWidgets(...widgets.slice(i, i + 2));
  return dashboard;
}
