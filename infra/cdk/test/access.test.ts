/**
 * What each principal can do with the key and the lake, asked of the synthesized policies as
 * requests (test/policy.ts): CloudWatch Logs only for this account's log groups, the Firehose
 * role and the direct writers only through S3 (or Kinesis) and only for the source's prefixes,
 * the registration's role only on what Security Lake creates for this source.
 */
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  PipelineSource,
  pregeneratedSchema,
  SecurityLakeDirectSource,
  SecurityLakeFirehosePipeline,
  SecurityLakeFirehosePipelineProps,
} from '../lib';
import { Deployed } from './intrinsics';
import { allows, Request } from './policy';

const ACCOUNT = '123456789012';
const BUCKET = 'aws-security-data-lake-us-east-1-abc';
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const REGISTER = { eventClasses: ['AUTHENTICATION'], providerExternalId: 'ext-1' };

/**
 * Deploy-time values: the pseudo parameters of us-east-1, `Ref` of a resource is its logical id,
 * `Fn::GetAtt X.Arn` is `arn:aws:test:::X` (so a test names a resource's ARN by its logical id),
 * and the registration returns `s3://<bucket>/ext/my-auth/`.
 */
const DEPLOYED: Deployed = new Proxy({} as Deployed, {
  has: () => true,
  get: (_, key: string) => {
    const pseudo: Record<string, string> = {
      'AWS::Region': 'us-east-1',
      'AWS::AccountId': ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (key in pseudo) return pseudo[key];
    if (key.endsWith('.source.provider.location')) return `s3://${BUCKET}/ext/my-auth/`;
    if (key.endsWith('.Arn')) return `arn:aws:test:::${key.slice(0, -'.Arn'.length)}`;
    return key;
  },
});

function newStack(): Stack {
  return new Stack(new App(), 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
}

function pipeline(props: (stack: Stack) => Partial<SecurityLakeFirehosePipelineProps> = () => ({})): Template {
  const stack = newStack();
  new SecurityLakeFirehosePipeline(stack, 'Pipeline', {
    lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', BUCKET),
    sourceName: 'my-auth',
    schema: pregeneratedSchema(3002, '1.1.0'),
    lambdaCode: lambda.Code.fromAsset(path.join(__dirname, 'placeholder-lambda')),
    ...props(stack),
  });
  return Template.fromStack(stack);
}

function only(template: Template, type: string, idPart: string): [string, any] {
  const found = Object.entries(template.findResources(type)).filter(([id]) => id.includes(idPart));
  expect(found).toHaveLength(1);
  return found[0];
}

const policyStatements = (template: Template, idPart: string) =>
  only(template, 'AWS::IAM::Policy', idPart)[1].Properties.PolicyDocument.Statement;

function keyOf(template: Template, idPart: string): { arn: string; policy: unknown[] } {
  const [id, key] = only(template, 'AWS::KMS::Key', idPart);
  return { arn: `arn:aws:test:::${id}`, policy: key.Properties.KeyPolicy.Statement };
}

/** A KMS request S3 (or Kinesis) makes on the caller's behalf, for `context`. */
function through(service: string, key: string, action: string, context: Record<string, string> = {}): Request {
  return { action, resource: key, context: { 'kms:ViaService': `${service}.us-east-1.amazonaws.com`, ...context } };
}
const s3Object = (key: string) => ({ 'kms:EncryptionContext:aws:s3:arn': `${BUCKET_ARN}/${key}` });

describe('the key policy', () => {
  const logs = (logGroupArn?: string, action = 'kms:GenerateDataKey'): Request => ({
    principal: 'logs.us-east-1.amazonaws.com',
    action,
    resource: '*',
    context: logGroupArn ? { 'kms:EncryptionContext:aws:logs:arn': logGroupArn } : {},
  });

  test("CloudWatch Logs may use the key for this account's log groups only", () => {
    const { policy } = keyOf(pipeline(), 'PipelineKey');
    const ours = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/ocsf-firehose-my-auth`;
    for (const action of ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom']) {
      expect(allows(policy, logs(ours, action), DEPLOYED)).toBe(true);
    }
    expect(allows(policy, logs('arn:aws:logs:us-east-1:999999999999:log-group:theirs'), DEPLOYED)).toBe(false);
    expect(allows(policy, logs(`arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:elsewhere`), DEPLOYED)).toBe(false);
    expect(allows(policy, logs(undefined), DEPLOYED)).toBe(false);
  });
});

describe('the Firehose role', () => {
  test('uses the key through S3 only, for the data and error prefixes of its source only', () => {
    const template = pipeline();
    const key = keyOf(template, 'PipelineKey').arn;
    const role = policyStatements(template, 'PipelineFirehoseRole');
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      for (const object of ['ext/my-auth/region=us-east-1/accountId=1/eventDay=20260101/a.parquet', 'errors/my-auth/x/2026/01/01/e']) {
        expect(allows(role, through('s3', key, action, s3Object(object)), DEPLOYED)).toBe(true);
      }
      // An S3 Bucket Key names the bucket.
      expect(allows(role, through('s3', key, action, { 'kms:EncryptionContext:aws:s3:arn': BUCKET_ARN }), DEPLOYED)).toBe(true);
      expect(allows(role, through('s3', key, action, s3Object('ext/other-source/x.parquet')), DEPLOYED)).toBe(false);
      expect(
        allows(role, through('s3', key, action, { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::another-bucket/ext/my-auth/x' }), DEPLOYED),
      ).toBe(false);
      // Directly, or through another service: no.
      expect(allows(role, { action, resource: key, context: s3Object('ext/my-auth/x') }, DEPLOYED)).toBe(false);
      expect(allows(role, through('sqs', key, action, s3Object('ext/my-auth/x')), DEPLOYED)).toBe(false);
    }
    expect(allows(role, through('s3', key, 'kms:Encrypt', s3Object('ext/my-auth/x')), DEPLOYED)).toBe(false);
  });

  test('a new Kinesis stream: decrypts through Kinesis only, reads only its stream', () => {
    const template = pipeline(() => ({ source: PipelineSource.newKinesisStream() }));
    const key = keyOf(template, 'PipelineKey').arn;
    const role = policyStatements(template, 'PipelineFirehoseRole');
    const [streamId] = only(template, 'AWS::Kinesis::Stream', 'PipelineStream');
    expect(allows(role, through('kinesis', key, 'kms:Decrypt'), DEPLOYED)).toBe(true);
    expect(allows(role, { action: 'kms:Decrypt', resource: key }, DEPLOYED)).toBe(false);
    expect(allows(role, { action: 'kinesis:GetRecords', resource: `arn:aws:test:::${streamId}` }, DEPLOYED)).toBe(true);
    expect(allows(role, { action: 'kinesis:GetRecords', resource: 'arn:aws:kinesis:us-east-1:1:stream/other' }, DEPLOYED)).toBe(false);
    expect(allows(role, { action: 'kinesis:PutRecords', resource: `arn:aws:test:::${streamId}` }, DEPLOYED)).toBe(false);
  });
});

describe('the direct writer', () => {
  test('puts objects and uses the lake key through S3 (multipart uploads decrypt) under its location only', () => {
    const stack = newStack();
    const lakeKey = new kms.Key(stack, 'LakeKey');
    new SecurityLakeDirectSource(stack, 'Source', {
      lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', BUCKET),
      sourceName: 'my-auth',
      lakeKey,
    });
    const template = Template.fromStack(stack);
    const key = keyOf(template, 'LakeKey').arn;
    const writer = only(template, 'AWS::IAM::ManagedPolicy', 'WriterPolicy')[1].Properties.PolicyDocument.Statement;
    expect(allows(writer, { action: 's3:PutObject', resource: `${BUCKET_ARN}/ext/my-auth/a.parquet` }, DEPLOYED)).toBe(true);
    expect(allows(writer, { action: 's3:PutObject', resource: `${BUCKET_ARN}/ext/other/a.parquet` }, DEPLOYED)).toBe(false);
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      expect(allows(writer, through('s3', key, action, s3Object('ext/my-auth/a.parquet')), DEPLOYED)).toBe(true);
      expect(allows(writer, through('s3', key, action, s3Object('ext/other/a.parquet')), DEPLOYED)).toBe(false);
      expect(allows(writer, { action, resource: key }, DEPLOYED)).toBe(false);
    }
  });
});

describe("the registration's role", () => {
  const registration = (template: Template) => policyStatements(template, 'CustomSourceCustomResourcePolicy');

  test.each([['pipeline'], ['direct']])('is scoped to what Security Lake creates for the source (%s)', (kind) => {
    let template: Template;
    if (kind === 'pipeline') {
      template = pipeline(() => ({ registerCustomSource: REGISTER }));
    } else {
      const stack = newStack();
      new SecurityLakeDirectSource(stack, 'Source', {
        lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', BUCKET),
        sourceName: 'my-auth',
        registerCustomSource: REGISTER,
      });
      template = Template.fromStack(stack);
    }
    const role = registration(template);
    const can = (action: string, resource: string, context?: Record<string, string>) =>
      allows(role, { action, resource, context }, DEPLOYED);
    const lake = `arn:aws:securitylake:us-east-1:${ACCOUNT}:data-lake/default`;
    expect(can('securitylake:CreateCustomLogSource', lake)).toBe(true);
    expect(can('securitylake:DeleteCustomLogSource', lake)).toBe(true);
    expect(can('securitylake:CreateCustomLogSource', `arn:aws:securitylake:eu-west-1:${ACCOUNT}:data-lake/default`)).toBe(false);
    // The lake: the source's own location only.
    expect(can('s3:PutObject', `${BUCKET_ARN}/ext/my-auth/`)).toBe(true);
    expect(can('s3:PutObject', `${BUCKET_ARN}/ext/other/`)).toBe(false);
    expect(can('s3:PutObject', 'arn:aws:s3:::another-bucket/ext/my-auth/')).toBe(false);
    expect(can('s3:ListBucket', BUCKET_ARN)).toBe(true);
    expect(can('s3:ListBucket', 'arn:aws:s3:::another-bucket')).toBe(false);
    // Glue: crawlers of this account and region, Security Lake's database and its tables.
    const glue = `arn:aws:glue:us-east-1:${ACCOUNT}`;
    expect(can('glue:CreateCrawler', `${glue}:crawler/my-auth`)).toBe(true);
    expect(can('glue:CreateCrawler', `arn:aws:glue:us-east-1:999999999999:crawler/my-auth`)).toBe(false);
    expect(can('glue:CreateTable', `${glue}:table/amazon_security_lake_glue_db_us_east_1/my_auth`)).toBe(true);
    expect(can('glue:CreateTable', `${glue}:table/payroll/salaries`)).toBe(false);
    expect(can('glue:DeleteTable', `${glue}:table/amazon_security_lake_glue_db_us_east_1/my_auth`)).toBe(false);
    // Lake Formation has no resource-level permissions: this region only.
    expect(can('lakeformation:GrantPermissions', '*', { 'aws:RequestedRegion': 'us-east-1' })).toBe(true);
    expect(can('lakeformation:GrantPermissions', '*', { 'aws:RequestedRegion': 'eu-west-1' })).toBe(false);
    // IAM: the provider role Security Lake names after the source, and passing the crawler role.
    expect(can('iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/AmazonSecurityLake-Provider-my-auth-us-east-1`)).toBe(true);
    expect(can('iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/Admin`)).toBe(false);
    expect(can('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/Admin`)).toBe(false);
    // Nothing on every resource without a condition.
    const evaluated = role.filter((s: any) => s.Effect === 'Allow');
    for (const s of evaluated) {
      if ([].concat(s.Resource).includes('*' as never)) expect(s.Condition).toBeDefined();
    }
  });
});
