import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SecurityLakeDirectSource, SecurityLakeDirectSourceProps } from '../lib';
import { evaluate } from './intrinsics';

function synth(overrides: (stack: Stack) => Partial<SecurityLakeDirectSourceProps> = () => ({})): Template {
  const stack = new Stack(new App(), 'Direct', { env: { account: '123456789012', region: 'us-east-1' } });
  new SecurityLakeDirectSource(stack, 'Source', {
    lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', 'aws-security-data-lake-us-east-1-abc'),
    sourceName: 'my-auth',
    ...overrides(stack),
  });
  return Template.fromStack(stack);
}

function writerStatements(template: Template): any[] {
  const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy'));
  expect(policies).toHaveLength(1);
  return (policies[0] as any).Properties.PolicyDocument.Statement;
}

describe('the direct path', () => {
  test('no Firehose, no Lambda, no Glue table: the application writes the objects', () => {
    const template = synth();
    for (const type of ['AWS::KinesisFirehose::DeliveryStream', 'AWS::Lambda::Function', 'AWS::Glue::Table']) {
      template.resourceCountIs(type, 0);
    }
  });

  test('the writer may only put objects under the source location', () => {
    const [write] = writerStatements(synth());
    expect(write.Action).toEqual(['s3:PutObject', 's3:AbortMultipartUpload']);
    expect(evaluate(write.Resource, { 'AWS::Partition': 'aws' })).toBe(
      'arn:aws:s3:::aws-security-data-lake-us-east-1-abc/ext/my-auth/*',
    );
  });

  test.each([
    ['s3://aws-security-data-lake-us-east-1-abc/ext/my-auth/', 'ext/my-auth/'],
    ['s3://aws-security-data-lake-us-east-1-abc/ext/my-auth/1.0/', 'ext/my-auth/1.0/'],
  ])('a registered source is written where registration says (%s)', (location, key) => {
    const template = synth(() => ({
      registerCustomSource: { eventClasses: ['AUTHENTICATION'], providerExternalId: 'ext-1' },
    }));
    const [customId] = Object.keys(template.findResources('Custom::AWS'));
    const deployed = { [`${customId}.source.provider.location`]: location, 'AWS::Partition': 'aws' };
    const [write] = writerStatements(template);
    expect(evaluate(write.Resource, deployed)).toBe(`arn:aws:s3:::aws-security-data-lake-us-east-1-abc/${key}*`);
    const outputs = template.toJSON().Outputs;
    const sourceOutput = Object.entries(outputs).find(([name]) => name.includes('SourceLocation'))![1] as any;
    expect(evaluate(sourceOutput.Value, deployed)).toBe(`s3://aws-security-data-lake-us-east-1-abc/${key}`);
    expect(Object.keys(outputs).some((name) => name.includes('WriterPolicyArn'))).toBe(true);
  });

  test('a customer-managed lake key: used through S3 only; the writers get the policy', () => {
    const template = synth((stack) => ({
      lakeKey: new kms.Key(stack, 'LakeKey'),
      writers: [new iam.Role(stack, 'App', { assumedBy: new iam.AccountRootPrincipal() })],
    }));
    const statements = writerStatements(template);
    expect(statements[1].Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
    expect(Object.keys(statements[1].Condition.StringEquals)).toEqual(['kms:ViaService']);
    const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0] as any;
    expect(policy.Properties.Roles).toHaveLength(1);
  });
});
