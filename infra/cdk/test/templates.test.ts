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
import {
  loadGlueSchema,
  MAX_INLINE_TEMPLATE_BYTES,
  PipelineSource,
  pregeneratedSchema,
  SCHEMAS_DIR,
  SecurityLakeFirehosePipeline,
  TemplateSizeLimit,
} from '../lib';

const schemaFiles = fs
  .readdirSync(SCHEMAS_DIR)
  .flatMap((version) => fs.readdirSync(path.join(SCHEMAS_DIR, version)).map((file) => path.join(version, file)));

test('there are 25 pre-generated schemas', () => {
  expect(schemaFiles).toHaveLength(25);
});

/** The largest variant of the pipeline for `schema` in a new app with `app`'s props. */
function largestVariant(schema: ReturnType<typeof loadGlueSchema>, app = new App()): Stack {
  const stack = new Stack(app, 'Sized', { env: { account: '123456789012', region: 'us-east-1' } });
  new SecurityLakeFirehosePipeline(stack, 'Pipeline', {
    lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', 'aws-security-data-lake-us-east-1-abc'),
    sourceName: 'ocsf-source-name-20',
    schema,
    lambdaCode: lambda.Code.fromAsset(path.join(__dirname, 'placeholder-lambda')),
    source: PipelineSource.newKinesisStream(),
    registerCustomSource: { eventClasses: ['AUTHENTICATION'], providerExternalId: 'ocsf-firehose' },
  });
  return stack;
}

const sizes: number[] = [];

test.each(schemaFiles)('the stack of %s fits the inline template limit', (file) => {
  const schema = loadGlueSchema(path.join(SCHEMAS_DIR, file));
  // Synthesized as `cdk synth` writes it, with the size check every app should register.
  const app = new App({ policyValidationBeta1: [new TemplateSizeLimit()] });
  const stack = largestVariant(schema, app);
  const template = Template.fromStack(stack);
  // Glue table names hold lowercase letters, digits and `_` (an extension class's name has a `/`).
  const tables = template.findResources('AWS::Glue::Table');
  for (const table of Object.values(tables)) {
    expect(table.Properties.TableInput.Name).toMatch(/^[a-z0-9_]+$/);
    expect(table.Properties.TableInput.Name).toBe(schema.table_name);
  }
  expect(Object.keys(tables)).toHaveLength(1);
  const bytes = fs.statSync(app.synth().getStackByName(stack.stackName).templateFullPath).size;
  sizes.push(bytes);
  console.log(`${file}: ${bytes} bytes (${schema.leaf_columns} leaf columns)`);
  expect(bytes).toBeLessThanOrEqual(MAX_INLINE_TEMPLATE_BYTES);
});

afterAll(() => {
  console.log(`largest template: ${Math.max(...sizes)} bytes of ${MAX_INLINE_TEMPLATE_BYTES}`);
});

test('synth fails with the template, its size and its largest resources when a template is past the limit', () => {
  const schema = pregeneratedSchema(3002, '1.1.0');
  // A table with every extra column a user could name would pass the limit; a lower limit stands in.
  const app = new App({ policyValidationBeta1: [new TemplateSizeLimit(20_000)] });
  largestVariant(schema, app);
  let message = '';
  try {
    app.synth();
  } catch (error) {
    message = String(error);
  }
  expect(message).toMatch(/Sized\.template\.json is \d+ bytes, over the 20000-byte template limit/);
  expect(message).toMatch(/largest resources: PipelineTable\w+ \d+ bytes/);
  // The same app under the default limit synthesizes.
  const fine = new App({ policyValidationBeta1: [new TemplateSizeLimit()] });
  largestVariant(schema, fine);
  expect(() => fine.synth()).not.toThrow();
});
