#!/usr/bin/env node
/**
 * Example app: the Authentication class (OCSF 1.1.0) through Direct PUT, API Activity through a
 * new Kinesis stream, Network Activity written directly by applications (no Firehose), and
 * Security Hub's OCSF findings (the preset: a stack per finding class), into an existing
 * Security Lake bucket.
 *
 *   cargo lambda build --profile release-lto --arm64 --output-format zip -p ocsf-firehose-transform --bin ocsf-firehose-lambda
 *   npx cdk deploy --all -c lakeBucket=aws-security-data-lake-us-east-1-abc123
 *
 * Context: `lakeBucket` (the Security Lake bucket), `lambdaCodePath` (default: cargo-lambda's
 * `target/lambda/ocsf-firehose-lambda/bootstrap.zip`, else that folder with its `bootstrap`),
 * `registerSources=true` to register the
 * custom sources (needs `providerExternalId`), `ocsfLogGroup` (the log group CloudWatch Logs'
 * parseToOCSF writes CloudTrail to; default `/ocsf/cloudtrail`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Aspects } from 'aws-cdk-lib';
import {
  CustomResourceFunctionChecks,
  PipelineSource,
  pregeneratedSchema,
  SecurityLakeDirectSource,
  SECURITY_HUB_PRESET,
  SecurityHubFindingsPipeline,
  SecurityLakeFirehosePipeline,
  TemplateSizeLimit,
} from '../lib';

// Synth fails on a template CloudFormation would refuse inline (lib/template-size.ts).
const app = new App({ policyValidationBeta1: [new TemplateSizeLimit()] });
const bucketName = app.node.tryGetContext('lakeBucket') ?? 'aws-security-data-lake-us-east-1-example';
const buildDir = path.join(__dirname, '..', '..', '..', 'target', 'lambda', 'ocsf-firehose-lambda');
const codePath = path.resolve(app.node.tryGetContext('lambdaCodePath') ?? defaultCodePath(buildDir));
const isCode = (p: string) => (p.endsWith('.zip') ? fs.existsSync(p) : fs.existsSync(path.join(p, 'bootstrap')));
if (!isCode(codePath)) {
  throw new Error(
    `no Lambda code at ${codePath}: run \`cargo lambda build --profile release-lto --arm64 --output-format zip ` +
      '-p ocsf-firehose-transform --bin ocsf-firehose-lambda` first (or pass -c lambdaCodePath=…)',
  );
}

/** cargo-lambda's output: `bootstrap.zip` with `--output-format zip` (the README's build), else the `bootstrap` folder. */
function defaultCodePath(dir: string): string {
  const zip = path.join(dir, 'bootstrap.zip');
  return fs.existsSync(zip) ? zip : dir;
}
const register = app.node.tryGetContext('registerSources') === 'true';
const externalId = app.node.tryGetContext('providerExternalId') ?? 'ocsf-firehose';

const examples = [
  { id: 'OcsfAuthenticationDirectPut', source: 'ocsf-auth', classUid: 3002, eventClass: 'AUTHENTICATION', kinesis: false },
  { id: 'OcsfApiActivityKinesis', source: 'ocsf-api', classUid: 6003, eventClass: 'API_ACTIVITY', kinesis: true },
];
for (const example of examples) {
  const stack = new Stack(app, example.id);
  new SecurityLakeFirehosePipeline(stack, 'Pipeline', {
    lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', bucketName),
    sourceName: example.source,
    registerCustomSource: register
      ? { eventClasses: [example.eventClass], providerExternalId: externalId }
      : undefined,
    schema: pregeneratedSchema(example.classUid, '1.1.0'),
    lambdaCode: lambda.Code.fromAsset(codePath),
    source: example.kinesis ? PipelineSource.newKinesisStream() : PipelineSource.directPut(),
  });
  Aspects.of(stack).add(new CustomResourceFunctionChecks());
}

// CloudWatch Logs' parseToOCSF output (CloudTrail as OCSF 1.1 or 1.5 API Activity) from its log
// group, through subscription filters, translated to 1.1.0.
const fromLogs = new Stack(app, 'OcsfApiActivityFromLogs');
new SecurityLakeFirehosePipeline(fromLogs, 'Pipeline', {
  lakeBucket: s3.Bucket.fromBucketName(fromLogs, 'Lake', bucketName),
  sourceName: 'ocsf-api-logs',
  registerCustomSource: register ? { eventClasses: ['API_ACTIVITY'], providerExternalId: externalId } : undefined,
  schema: pregeneratedSchema(6003, '1.1.0'),
  lambdaCode: lambda.Code.fromAsset(codePath),
  source: PipelineSource.cloudWatchLogs({
    logGroups: [logs.LogGroup.fromLogGroupName(fromLogs, 'OcsfLogs', app.node.tryGetContext('ocsfLogGroup') ?? '/ocsf/cloudtrail')],
  }),
});
Aspects.of(fromLogs).add(new CustomResourceFunctionChecks());

// The Security Hub preset: a stack per finding class. Without their dashboards (the Lambdas'
// metrics are still in the OcsfFirehose namespace), the registered stacks stay under the inline
// template limit; with `cdk deploy` (S3 upload) turn them on.
for (const findingClass of SECURITY_HUB_PRESET.classes) {
  const name = findingClass.sourceName.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
  const stack = new Stack(app, `OcsfSecurityHub${name.replace(/^Sh/, '')}`);
  new SecurityHubFindingsPipeline(stack, 'Findings', {
    lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', bucketName),
    classUid: findingClass.classUid,
    registerCustomSource: register ? { providerExternalId: externalId } : undefined,
    lambdaCode: lambda.Code.fromAsset(codePath),
    dashboard: false,
  });
  Aspects.of(stack).add(new CustomResourceFunctionChecks());
}

// The direct path: the source and the policy its writers (ProducerBuilder::s3, upload) need.
const direct = new Stack(app, 'OcsfNetworkActivityDirect');
new SecurityLakeDirectSource(direct, 'Source', {
  lakeBucket: s3.Bucket.fromBucketName(direct, 'Lake', bucketName),
  sourceName: 'ocsf-flows',
  registerCustomSource: register ? { eventClasses: ['NETWORK_ACTIVITY'], providerExternalId: externalId } : undefined,
});
Aspects.of(direct).add(new CustomResourceFunctionChecks());
