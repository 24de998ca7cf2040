import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import defaultsJson from '../../defaults.json';
import {
  PipelineSource,
  pregeneratedSchema,
  SecurityLakeFirehosePipeline,
  SecurityLakeFirehosePipelineProps,
} from '../lib';
import { evaluate } from './intrinsics';

/** A fresh asset per stack (CDK refuses to share one). */
const code = () => lambda.Code.fromAsset(path.join(__dirname, 'placeholder-lambda'));
const SCHEMA = pregeneratedSchema(3002, '1.1.0');
const PREFIX =
  'ext/my-auth/region=!{partitionKeyFromLambda:region}/accountId=!{partitionKeyFromLambda:accountId}/eventDay=!{partitionKeyFromLambda:eventDay}/';

/** Synthesizes a pipeline with the test defaults; `overrides` may need the stack (imports). */
function synth(
  overrides: Partial<SecurityLakeFirehosePipelineProps> | ((stack: Stack) => Partial<SecurityLakeFirehosePipelineProps>) = {},
): Template {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  new SecurityLakeFirehosePipeline(stack, 'Pipeline', {
    lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', 'aws-security-data-lake-us-east-1-abc'),
    sourceName: 'my-auth',
    schema: SCHEMA,
    lambdaCode: code(),
    ...(typeof overrides === 'function' ? overrides(stack) : overrides),
  });
  return Template.fromStack(stack);
}

function destination(template: Template): any {
  const streams = Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream'));
  expect(streams).toHaveLength(1);
  return (streams[0] as any).Properties.ExtendedS3DestinationConfiguration;
}

function stream(template: Template): any {
  return (Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream'))[0] as any).Properties;
}

function statements(template: Template, roleLogicalPrefix: string): any[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => id.startsWith(roleLogicalPrefix))
    .flatMap(([, p]) => (p as any).Properties.PolicyDocument.Statement);
}

describe('delivery into the Security Lake custom source', () => {
  test('the prefix is exactly ext/<source>/region=…/accountId=…/eventDay=…/ with dynamic partitioning', () => {
    const d = destination(synth());
    expect(d.Prefix).toBe(PREFIX);
    expect(d.DynamicPartitioningConfiguration).toEqual({ Enabled: true, RetryOptions: { DurationInSeconds: 300 } });
  });

  test('the error prefix is outside ext/ and names the error output type', () => {
    const d = destination(synth());
    expect(d.ErrorOutputPrefix).toBe('errors/my-auth/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/');
    expect(d.ErrorOutputPrefix.startsWith('ext/')).toBe(false);
  });

  test('Parquet through OpenX JSON → ParquetSerDe with the generated Glue table, S3 uncompressed', () => {
    const template = synth();
    const d = destination(template);
    expect(d.CompressionFormat).toBe('UNCOMPRESSED');
    const conversion = d.DataFormatConversionConfiguration;
    expect(conversion.Enabled).toBe(true);
    expect(conversion.InputFormatConfiguration).toEqual({ Deserializer: { OpenXJsonSerDe: {} } });
    expect(conversion.OutputFormatConfiguration).toEqual({
      Serializer: {
        ParquetSerDe: {
          Compression: 'SNAPPY',
          BlockSizeBytes: 256 * 1024 * 1024,
          PageSizeBytes: 768 * 1024,
          WriterVersion: 'V1',
          EnableDictionaryCompression: true,
        },
      },
    });
    expect(conversion.SchemaConfiguration.TableName).toBe('authentication_1_1_0');
    const table = Object.values(template.findResources('AWS::Glue::Table'))[0] as any;
    const columns = table.Properties.TableInput.StorageDescriptor.Columns;
    expect(columns).toEqual(SCHEMA.columns.map((c) => ({ Name: c.Name, Type: c.Type })));
    expect(table.Properties.TableInput.Name).toBe(conversion.SchemaConfiguration.TableName);
  });

  test('buffering: defaults from infra/defaults.json, and at least 64 MiB as format conversion requires', () => {
    expect(destination(synth()).BufferingHints).toEqual({
      IntervalInSeconds: defaultsJson.bufferingIntervalSeconds,
      SizeInMBs: defaultsJson.bufferingSizeMiB,
    });
    expect(destination(synth({ bufferingSizeMiB: 64, bufferingInterval: Duration.seconds(900) })).BufferingHints).toEqual({
      IntervalInSeconds: 900,
      SizeInMBs: 64,
    });
    expect(() => synth({ bufferingSizeMiB: 32 })).toThrow(/64–128 MiB/);
    expect(() => synth({ processorBufferSizeMiB: 4 })).toThrow(/0.2–3 MiB/);
  });

  test('processors: RecordDeAggregation (JSON) before the Lambda when aggregating, the Lambda alone otherwise', () => {
    const on = destination(synth()).ProcessingConfiguration;
    expect(on.Enabled).toBe(true);
    expect(on.Processors.map((p: any) => p.Type)).toEqual(['RecordDeAggregation', 'Lambda']);
    expect(on.Processors[0].Parameters).toEqual([{ ParameterName: 'SubRecordType', ParameterValue: 'JSON' }]);
    const lambdaParams = Object.fromEntries(on.Processors[1].Parameters.map((p: any) => [p.ParameterName, p.ParameterValue]));
    expect(lambdaParams).toMatchObject({ BufferSizeInMBs: '1', BufferIntervalInSeconds: '60', NumberOfRetries: '3' });
    const off = destination(synth({ aggregation: false, processorBufferSizeMiB: 3, processorBufferInterval: Duration.seconds(0) }));
    expect(off.ProcessingConfiguration.Processors.map((p: any) => p.Type)).toEqual(['Lambda']);
    const offParams = Object.fromEntries(
      off.ProcessingConfiguration.Processors[0].Parameters.map((p: any) => [p.ParameterName, p.ParameterValue]),
    );
    expect(offParams).toMatchObject({ BufferSizeInMBs: '3', BufferIntervalInSeconds: '0' });
  });
});

describe('sources', () => {
  test('Direct PUT: the stream is encrypted with the customer-managed key', () => {
    const props = stream(synth());
    expect(props.DeliveryStreamType).toBe('DirectPut');
    expect(props.KinesisStreamSourceConfiguration).toBeUndefined();
    expect(props.DeliveryStreamEncryptionConfigurationInput.KeyType).toBe('CUSTOMER_MANAGED_CMK');
  });

  test('a new Kinesis stream: KMS-encrypted, read by the Firehose role', () => {
    const template = synth({ source: PipelineSource.newKinesisStream({ shardCount: 2 }) });
    const props = stream(template);
    expect(props.DeliveryStreamType).toBe('KinesisStreamAsSource');
    expect(props.KinesisStreamSourceConfiguration.KinesisStreamARN).toBeDefined();
    expect(props.DeliveryStreamEncryptionConfigurationInput).toBeUndefined();
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 2,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: Match.anyValue() },
    });
    const actions = statements(template, 'PipelineFirehoseRole').flatMap((s) => ([] as string[]).concat(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:DescribeStream']));
  });

  test('an existing Kinesis stream: no new stream, its ARN is the source', () => {
    const template = synth((stack) => ({
      source: PipelineSource.existingKinesisStream(
        kinesis.Stream.fromStreamArn(stack, 'Events', 'arn:aws:kinesis:us-east-1:123456789012:stream/events'),
      ),
    }));
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    expect(stream(template).KinesisStreamSourceConfiguration.KinesisStreamARN).toBe(
      'arn:aws:kinesis:us-east-1:123456789012:stream/events',
    );
  });
});

describe('the custom source', () => {
  test('registration calls CreateCustomLogSource and DeleteCustomLogSource', () => {
    const template = synth({
      registerCustomSource: { eventClasses: ['AUTHENTICATION'], providerExternalId: 'ext-1' },
    });
    const custom = Object.values(template.findResources('Custom::AWS'))[0] as any;
    const create = JSON.stringify(custom.Properties.Create);
    expect(create).toContain('CreateCustomLogSource');
    expect(create).toContain('AUTHENTICATION');
    expect(create).toContain('my-auth');
    expect(JSON.stringify(custom.Properties.Delete)).toContain('DeleteCustomLogSource');
  });

  test.each([
    ['s3://aws-security-data-lake-us-east-1-abc/ext/my-auth/', 'ext/my-auth/'],
    // Should a later Security Lake version add a level (e.g. the source version), it carries through.
    ['s3://aws-security-data-lake-us-east-1-abc/ext/my-auth/1.0/', 'ext/my-auth/1.0/'],
  ])('a registered source delivers under the location registration returns (%s)', (location, key) => {
    const template = synth({
      registerCustomSource: { eventClasses: ['AUTHENTICATION'], providerExternalId: 'ext-1' },
    });
    const [customId] = Object.keys(template.findResources('Custom::AWS'));
    const deployed = {
      [`${customId}.source.provider.location`]: location,
      'AWS::Partition': 'aws',
      'AWS::AccountId': '123456789012',
    };
    const d = destination(template);
    expect(evaluate(d.Prefix, deployed)).toBe(PREFIX.replace('ext/my-auth/', key));
    const table = (Object.values(template.findResources('AWS::Glue::Table'))[0] as any).Properties;
    expect(evaluate(table.TableInput.StorageDescriptor.Location, deployed)).toBe(location);
    const s3Write = statements(template, 'PipelineFirehoseRole').find(
      (s) => ([] as string[]).concat(s.Action).includes('s3:PutObject') && s.Effect === 'Allow',
    );
    expect(evaluate(s3Write.Resource, deployed)).toEqual([
      `arn:aws:s3:::aws-security-data-lake-us-east-1-abc/${key}*`,
      'arn:aws:s3:::aws-security-data-lake-us-east-1-abc/errors/my-auth/*',
    ]);
  });

  test('an existing source needs no custom resource', () => {
    synth().resourceCountIs('Custom::AWS', 0);
  });

  test('source names longer than 20 characters are refused', () => {
    expect(() => synth({ sourceName: 'a-very-long-source-name' })).toThrow(/1-20 characters/);
  });
});

describe('security', () => {
  test('the Firehose role writes only the two prefixes, reads only its table, invokes only its Lambda', () => {
    const template = synth();
    const all = statements(template, 'PipelineFirehoseRole');
    const s3Write = all.find((s) => ([] as string[]).concat(s.Action).includes('s3:PutObject') && s.Effect === 'Allow');
    expect(JSON.stringify(s3Write.Resource)).toContain('/ext/my-auth/*');
    expect(JSON.stringify(s3Write.Resource)).toContain('/errors/my-auth/*');
    expect(JSON.stringify(s3Write.Resource)).not.toMatch(/:::[^/"]+\/\*"/);
    const deny = all.find((s) => s.Effect === 'Deny');
    expect(deny.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    const glueStatement = all.find((s) => ([] as string[]).concat(s.Action).includes('glue:GetTable'));
    expect(JSON.stringify(glueStatement.Resource)).toContain('authentication_1_1_0');
    const invoke = all.find((s) => ([] as string[]).concat(s.Action).includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invoke.Resource)).toContain('PipelineTransform');
    const allowed = new Set(all.filter((s) => s.Effect === 'Allow').flatMap((s) => ([] as string[]).concat(s.Action)));
    for (const action of allowed) expect(action).not.toMatch(/\*$/);
  });

  test('the Lambda role may only write its logs', () => {
    const template = synth();
    const roles = template.findResources('AWS::IAM::Role');
    const lambdaRole = Object.entries(roles).find(([id]) => id.startsWith('PipelineTransformServiceRole'))![1] as any;
    expect(JSON.stringify(lambdaRole.Properties.ManagedPolicyArns)).toContain('AWSLambdaBasicExecutionRole');
    expect(statements(template, 'PipelineTransformServiceRole')).toEqual([]);
  });

  test('KMS everywhere: key rotation, encrypted logs and Lambda environment, encrypted S3 objects', () => {
    const template = synth();
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup')) as any[];
    expect(logGroups.length).toBe(2);
    for (const group of logGroups) expect(group.Properties.KmsKeyId).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', { KmsKeyArn: Match.anyValue() });
    expect(destination(template).EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN).toBeDefined();
  });
});

describe('logs', () => {
  test('an existing log group receives the delivery stream and the role may write only there', () => {
    const template = synth((stack) => ({
      deliveryLogGroup: logs.LogGroup.fromLogGroupName(stack, 'Existing', 'security-lake-delivery'),
    }));
    template.resourceCountIs('AWS::Logs::LogGroup', 1); // only the Lambda's
    template.hasResourceProperties('AWS::Logs::LogStream', { LogGroupName: 'security-lake-delivery' });
    expect(destination(template).CloudWatchLoggingOptions.LogGroupName).toBe('security-lake-delivery');
    const put = statements(template, 'PipelineFirehoseRole').find((s) => ([] as string[]).concat(s.Action).includes('logs:PutLogEvents'));
    expect(JSON.stringify(put.Resource)).toContain('security-lake-delivery:log-stream:');
  });
});

describe('the Lambda and the alarms', () => {
  test('a layer with the user\'s schema file, named by OCSF_EXTENSIONS', () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:layer:acme-ocsf:3';
    const template = synth((stack) => ({
      lambdaLayers: [lambda.LayerVersion.fromLayerVersionArn(stack, 'Acme', arn)],
      lambdaEnvironment: { OCSF_EXTENSIONS: '/opt/acme-1.3.0.json' },
    }));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Layers: [arn],
      Environment: { Variables: Match.objectLike({ OCSF_EXTENSIONS: '/opt/acme-1.3.0.json' }) },
    });
    const plain = synth().findResources('AWS::Lambda::Function');
    expect(Object.values(plain).every((f) => f.Properties.Layers === undefined)).toBe(true);
  });

  test('environment: version, class and table profiles from the schema, user settings on top', () => {
    const template = synth({ lambdaEnvironment: { OCSF_ON_INVALID: 'drop', OCSF_VERSION: '1.1.0' } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          OCSF_VERSION: '1.1.0',
          OCSF_ALLOWED_CLASSES: '3002',
          OCSF_TABLE_PROFILES: SCHEMA.profiles.join(','),
          OCSF_METRICS_NAMESPACE: 'OcsfFirehose',
          OCSF_ON_INVALID: 'drop',
        },
      },
    });
  });

  test('alarms on failed records, Lambda errors and delivery freshness, notifying the topic', () => {
    const template = synth((stack) => ({ alarmTopic: new sns.Topic(stack, 'Topic') }));
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'OcsfFirehose',
      MetricName: 'RecordsFailed',
      Threshold: 0,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Topic') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Firehose', MetricName: 'DeliveryToS3.DataFreshness' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Lambda', MetricName: 'Errors' });
  });
});

describe('from CloudWatch Logs (parseToOCSF output)', () => {
  const fromLogs = (extra: Partial<SecurityLakeFirehosePipelineProps> = {}) =>
    synth((stack) => ({
      source: PipelineSource.cloudWatchLogs({
        logGroups: [
          logs.LogGroup.fromLogGroupName(stack, 'Trail', '/ocsf/cloudtrail'),
          logs.LogGroup.fromLogGroupName(stack, 'Flows', '/ocsf/vpc-flow'),
        ],
        filterPattern: '{ $.class_uid = * }',
      }),
      ...extra,
    }));

  test('Firehose gunzips the batch and extracts its messages before the Lambda; no de-aggregation', () => {
    const processors = destination(fromLogs()).ProcessingConfiguration.Processors;
    expect(processors.map((p: any) => p.Type)).toEqual(['Decompression', 'CloudWatchLogProcessing', 'Lambda']);
    expect(processors[0].Parameters).toEqual([{ ParameterName: 'CompressionFormat', ParameterValue: 'GZIP' }]);
    expect(processors[1].Parameters).toEqual([{ ParameterName: 'DataMessageExtraction', ParameterValue: 'true' }]);
    expect(stream(fromLogs()).DeliveryStreamType).toBe('DirectPut');
  });

  test('a subscription filter per log group, through a role that may only put into this stream', () => {
    const template = fromLogs();
    const filters = Object.values(template.findResources('AWS::Logs::SubscriptionFilter')) as any[];
    expect(filters.map((f) => f.Properties.LogGroupName).sort()).toEqual(['/ocsf/cloudtrail', '/ocsf/vpc-flow']);
    const [streamId] = Object.keys(template.findResources('AWS::KinesisFirehose::DeliveryStream'));
    for (const filter of filters) {
      expect(filter.Properties.DestinationArn).toEqual({ 'Fn::GetAtt': [streamId, 'Arn'] });
      expect(filter.Properties.FilterPattern).toBe('{ $.class_uid = * }');
      expect(filter.DependsOn.some((d: string) => d.startsWith('PipelineSubscriptionPolicy'))).toBe(true);
    }
    const put = statements(template, 'PipelineSubscriptionPolicy');
    expect(put).toEqual([
      {
        Sid: 'PutLogEvents',
        Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [streamId, 'Arn'] },
      },
    ]);
    const role = Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) =>
      id.startsWith('PipelineSubscriptionRole'),
    )?.[1] as any;
    const trust = role.Properties.AssumeRolePolicyDocument.Statement[0];
    expect(trust.Principal).toEqual({ Service: 'logs.amazonaws.com' });
    expect(Object.keys(trust.Condition).sort()).toEqual(['ArnLike', 'StringEquals']);
  });

  test('aggregation cannot be asked of CloudWatch Logs batches', () => {
    expect(() => fromLogs({ aggregation: true })).toThrow(/aggregation/);
  });
});
