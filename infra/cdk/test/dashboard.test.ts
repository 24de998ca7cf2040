/**
 * The pipeline's dashboard: on by default, off with `dashboard: false`, and its body names every
 * metric of the shared widget list (`infra/defaults.json`, whose names the Rust contract test
 * checks against what the Lambda emits and Firehose reports), each with the dimension that
 * selects this pipeline's function or stream.
 */
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import defaultsJson from '../../defaults.json';
import { pregeneratedSchema, SecurityLakeFirehosePipeline } from '../lib';

function synth(dashboard?: boolean, producerMetricsNamespace?: string): { template: Template; stack: Stack } {
  const stack = new Stack(new App(), 'Dash', { env: { account: '123456789012', region: 'us-east-1' } });
  new SecurityLakeFirehosePipeline(stack, 'Pipeline', {
    lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', 'aws-security-data-lake-us-east-1-abc'),
    sourceName: 'my-auth',
    schema: pregeneratedSchema(3002, '1.1.0'),
    lambdaCode: lambda.Code.fromAsset(path.join(__dirname, 'placeholder-lambda')),
    dashboard,
    producerMetricsNamespace,
  });
  return { template: Template.fromStack(stack), stack };
}

/** The dashboard body with CloudFormation references rendered as `<Ref:logicalId>`. */
function body(template: Template): any {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as any[];
  expect(dashboards).toHaveLength(1);
  const parts = dashboards[0].Properties.DashboardBody['Fn::Join'][1] as any[];
  const text = parts
    .map((p) => (typeof p === 'string' ? p : p.Ref ? `<Ref:${p.Ref}>` : `<${JSON.stringify(p)}>`))
    .join('');
  return JSON.parse(text);
}

test('the dashboard is on by default and off on request', () => {
  expect(Object.keys(synth().template.findResources('AWS::CloudWatch::Dashboard'))).toHaveLength(1);
  expect(Object.keys(synth(false).template.findResources('AWS::CloudWatch::Dashboard'))).toHaveLength(0);
});

test('every widget of the shared list is drawn with its metrics and this pipeline dimensions', () => {
  const { template } = synth();
  const dashboard = body(template);
  const widgets = dashboard.widgets as any[];
  const specs = defaultsJson.dashboard.widgets.filter((spec) => spec.source !== 'producer');
  expect(specs.length).toBeGreaterThan(0);
  expect(widgets).toHaveLength(specs.length);
  const functionRef = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) =>
    id.includes('Transform'),
  );
  const streamRef = Object.keys(template.findResources('AWS::KinesisFirehose::DeliveryStream'))[0];
  specs.forEach((spec, i) => {
    const properties = widgets[i].properties;
    expect(properties.title).toBe(spec.title);
    const lines = properties.metrics as any[];
    expect(lines).toHaveLength(spec.metrics.length);
    spec.metrics.forEach((name, j) => {
      const line = lines[j];
      if ('byDimension' in spec) {
        const expression = line[0].expression as string;
        expect(expression).toContain(`MetricName="${name}"`);
        expect(expression).toContain(`{${defaultsJson.metricsNamespace},FunctionName,${spec.byDimension}}`);
        return;
      }
      const [namespace, metricName, dimension] = line;
      expect(metricName).toBe(name);
      if (spec.source === 'lambda') {
        expect([namespace, dimension]).toEqual([defaultsJson.metricsNamespace, 'FunctionName']);
        expect(line[3]).toContain(functionRef ?? 'no function');
      } else {
        expect([namespace, dimension]).toEqual(['AWS/Firehose', 'DeliveryStreamName']);
        expect(line[3]).toBe(`<Ref:${streamRef}>`);
      }
      // CDK writes a statistic shared by the whole graph once, on the widget, and leaves out
      // CloudWatch's default (Average).
      expect(line[4]?.stat ?? properties.stat ?? 'Average').toBe(spec.stat);
    });
  });
});

test("the producer's graphs are drawn from the namespace the application exports them to", () => {
  const widgets = body(synth(undefined, 'MyApp/Producer').template).widgets as any[];
  const specs = defaultsJson.dashboard.widgets.filter((spec) => spec.source === 'producer');
  expect(specs.length).toBeGreaterThan(0);
  expect(widgets).toHaveLength(defaultsJson.dashboard.widgets.length);
  for (const spec of specs) {
    const widget = widgets.find((w) => w.properties.title === spec.title);
    expect(widget).toBeDefined();
    const lines = widget.properties.metrics as any[];
    expect(lines.map((line) => line[0].expression)).toEqual(
      spec.metrics.map(
        (name) =>
          `SEARCH('Namespace="MyApp/Producer" MetricName="${name}"', '${spec.stat}', ${defaultsJson.dashboard.periodSeconds})`,
      ),
    );
  }
});
