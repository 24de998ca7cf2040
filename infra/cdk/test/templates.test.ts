/**
 * Every pre-generated schema deploys as a plain template: one stack per schema (the largest
 * variant: a new Kinesis stream, the custom source registered) stays within CloudFormation's
 * 51,200-byte limit for a template passed inline (`--template-body`), not only through
 * `cdk deploy`'s S3 upload. Sizes are measured as `cdk synth` writes the template.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { loadGlueSchema, PipelineSource, SCHEMAS_DIR, SecurityLakeFirehosePipeline } from '../lib';

/** https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html */
const MAX_INLINE_TEMPLATE_BYTES = 51_200;

const schemaFiles = fs
  .readdirSync(SCHEMAS_DIR)
  .flatMap((version) => fs.readdirSync(path.join(SCHEMAS_DIR, version)).map((file) => path.join(version, file)));

test('there are 20 pre-generated schemas', () => {
  expect(schemaFiles).toHaveLength(20);
});

test.each(schemaFiles)('the stack of %s fits the inline template limit', (file) => {
  const schema = loadGlueSchema(path.join(SCHEMAS_DIR, file));
  const stack = new Stack(new App(), 'Sized', { env: { account: '123456789012', region: 'us-east-1' } });
  new SecurityLakeFirehosePipeline(stack, 'Pipeline', {
    lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', 'aws-security-data-lake-us-east-1-abc'),
    sourceName: 'ocsf-source-name-20',
    schema,
    lambdaCode: lambda.Code.fromAsset(path.join(__dirname, 'placeholder-lambda')),
    source: PipelineSource.newKinesisStream(),
    registerCustomSource: { eventClasses: ['AUTHENTICATION'], providerExternalId: 'ocsf-firehose' },
  });
  const template = Template.fromStack(stack);
  // Glue table names hold lowercase letters, digits and `_` (an extension class's name has a `/`).
  const tables = template.findResources('AWS::Glue::Table');
  for (const table of Object.values(tables)) {
    expect(table.Properties.TableInput.Name).toMatch(/^[a-z0-9_]+$/);
    expect(table.Properties.TableInput.Name).toBe(schema.table_name);
  }
  expect(Object.keys(tables)).toHaveLength(1);
  const bytes = Buffer.byteLength(JSON.stringify(template.toJSON(), undefined, 1));
  console.log(`${file}: ${bytes} bytes (${schema.leaf_columns} leaf columns)`);
  expect(bytes).toBeLessThanOrEqual(MAX_INLINE_TEMPLATE_BYTES);
});
