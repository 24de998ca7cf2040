/**
 * `SecurityLakeFirehosePipeline`: a Firehose delivery stream (Direct PUT or fed by a Kinesis
 * stream) → optional JSON de-aggregation → the OCSF transformation Lambda → dynamic partitioning
 * by the Lambda's keys → Parquet through a Glue table generated from the OCSF class → the
 * custom source's `ext/<source>/region=…/accountId=…/eventDay=…/` prefix of the Security Lake
 * bucket; failures under an error prefix outside `ext/`.
 */
import { ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { checkSourceName, customSource, CustomSourceRegistrationProps } from './custom-source';
import { pipelineDashboard } from './dashboard';
import { allowLogsToUseKey, kinesisKeyUse, s3KeyUse } from './key-access';
import { dataPrefix, DEFAULTS, errorPrefix } from './defaults';
import { OcsfGlueSchema, tableColumnsEnvironment } from './schema';
import { CloudWatchLogsSource, KinesisSource, PipelineSource } from './source';
import { lintIgnore, skipChecks } from './suppressions';

/** Properties of {@link SecurityLakeFirehosePipeline}. */
export interface SecurityLakeFirehosePipelineProps {
  /** The Security Lake bucket (`aws-security-data-lake-<region>-<id>`). */
  readonly lakeBucket: s3.IBucket;
  /** The custom source name: objects land under `ext/<sourceName>/`. At most 20 characters. */
  readonly sourceName: string;
  /** Register the custom source (a custom resource); omit when it exists already. */
  readonly registerCustomSource?: CustomSourceRegistrationProps;
  /** The class's generated Glue columns (`infra/schemas/…`, `ocsf-firehose glue-schema`). */
  readonly schema: OcsfGlueSchema;
  /** The Lambda code: `cargo lambda build --profile release-lto --arm64` output. */
  readonly lambdaCode: lambda.Code;
  /** Lambda architecture. @default ARM_64 */
  readonly lambdaArchitecture?: lambda.Architecture;
  /** Extra `OCSF_*` environment of the Lambda (see the README); overrides the defaults. */
  readonly lambdaEnvironment?: Record<string, string>;
  /**
   * Layers of the Lambda: one holding your compiled OCSF schema with your own extension, named
   * by `OCSF_EXTENSIONS` in `lambdaEnvironment` (`/opt/…`; see the README). @default none
   */
  readonly lambdaLayers?: lambda.ILayerVersion[];
  /** Where records come from. @default PipelineSource.directPut() */
  readonly source?: PipelineSource;
  /** Producers aggregate events as JSON lines: add the `RecordDeAggregation` (JSON) processor. @default true (false from CloudWatch Logs) */
  readonly aggregation?: boolean;
  /** S3 buffer size in MiB (≥ 64: format conversion requires it). @default 128 */
  readonly bufferingSizeMiB?: number;
  /** S3 buffer interval. @default 300 seconds */
  readonly bufferingInterval?: Duration;
  /** Lambda processor buffer size in MiB (0.2–3). @default 1 */
  readonly processorBufferSizeMiB?: number;
  /** Lambda processor buffer interval (0–900 s). @default 60 seconds */
  readonly processorBufferInterval?: Duration;
  /** The key for the stream, the Kinesis stream, logs and the Lambda's environment. @default a new key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** Glue database holding the table. @default a new database */
  readonly glueDatabaseName?: string;
  /** The log group of Firehose's delivery errors (a stream is added to it). @default a new KMS-encrypted group */
  readonly deliveryLogGroup?: logs.ILogGroup;
  /** Where alarms notify. @default no action */
  readonly alarmTopic?: sns.ITopic;
  /** A CloudWatch dashboard of the pipeline (`ocsf-<sourceName>`: the Lambda's and Firehose's metrics). @default true */
  readonly dashboard?: boolean;
  /**
   * The CloudWatch namespace your application exports the producer's metrics to (with an EMF
   * exporter of the `metrics` facade, for example): the dashboard then also draws the producer's
   * graphs (events delivered and given up, calls and records resent, buffered bytes, p99 time to
   * delivery). @default no producer graphs
   */
  readonly producerMetricsNamespace?: string;
}

/** The pipeline. */
export class SecurityLakeFirehosePipeline extends Construct {
  /** The delivery stream. */
  readonly deliveryStream: firehose.CfnDeliveryStream;
  /** The transformation Lambda. */
  readonly transformFunction: lambda.Function;
  /** The Kinesis stream, when it is the source. */
  readonly kinesisStream?: kinesis.IStream;
  /** The encryption key. */
  readonly key: kms.IKey;
  /** The Firehose role. */
  readonly firehoseRole: iam.Role;
  /** The role CloudWatch Logs puts into the stream with, for `PipelineSource.cloudWatchLogs`. */
  readonly subscriptionRole?: iam.Role;
  /** Alarms: failed records, Lambda errors, delivery freshness. */
  readonly alarms: cloudwatch.Alarm[];
  /** The dashboard, unless `dashboard: false`. */
  readonly dashboard?: cloudwatch.Dashboard;
  /**
   * The key prefix of the custom source, e.g. `ext/my-app/`: the path of the `provider.location`
   * that registration returns when `registerCustomSource` is set (a deploy-time token), else
   * `ext/<sourceName>/`.
   */
  readonly sourceLocation: string;
  /** The S3 prefix of the data: the source location + `region=…/accountId=…/eventDay=…/`. */
  readonly prefix: string;

  constructor(scope: Construct, id: string, props: SecurityLakeFirehosePipelineProps) {
    super(scope, id);
    checkSourceName(props.sourceName);
    const bufferingSize = props.bufferingSizeMiB ?? DEFAULTS.bufferingSizeMiB;
    if (bufferingSize < DEFAULTS.minBufferingSizeMiB || bufferingSize > 128) {
      throw new Error(`bufferingSizeMiB ${bufferingSize}: record format conversion needs 64–128 MiB`);
    }
    const processorSize = props.processorBufferSizeMiB ?? DEFAULTS.processorBufferSizeMiB;
    if (processorSize < 0.2 || processorSize > 3) {
      throw new Error(`processorBufferSizeMiB ${processorSize}: Firehose accepts 0.2–3 MiB`);
    }
    const bufferingSeconds = (props.bufferingInterval ?? Duration.seconds(DEFAULTS.bufferingIntervalSeconds)).toSeconds();
    const processorSeconds = (
      props.processorBufferInterval ?? Duration.seconds(DEFAULTS.processorBufferIntervalSeconds)
    ).toSeconds();
    const stack = Stack.of(this);
    const source = props.source ?? PipelineSource.directPut();
    const errors = errorPrefix(props.sourceName);

    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', { enableKeyRotation: true, description: `ocsf-firehose ${props.sourceName}` });
    allowLogsToUseKey(this.key);

    // Where the source's objects go: the location the registration returns, else `ext/<source>/`.
    const custom = customSource(this, props.sourceName, props.lakeBucket, props.registerCustomSource);
    this.sourceLocation = custom.sourceLocation;
    this.prefix = dataPrefix(this.sourceLocation);

    // The Glue table Firehose converts JSON to Parquet with.
    const databaseName = props.glueDatabaseName ?? `ocsf_firehose_${props.sourceName.toLowerCase().replace(/-/g, '_')}`;
    const database = props.glueDatabaseName
      ? undefined
      : new glue.CfnDatabase(this, 'Database', {
          catalogId: Aws.ACCOUNT_ID,
          databaseInput: { name: databaseName, description: 'ocsf-firehose: schemas for Firehose record format conversion' },
        });
    const tableName = props.schema.table_name;
    const table = new glue.CfnTable(this, 'Table', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName,
      tableInput: {
        name: tableName,
        description: `OCSF ${props.schema.ocsf_version} class ${props.schema.class_uid} (${props.schema.class_name}), generated by ocsf-firehose glue-schema`,
        tableType: 'EXTERNAL_TABLE',
        parameters: { classification: 'parquet', ocsf_class_uid: String(props.schema.class_uid) },
        storageDescriptor: {
          columns: props.schema.columns.map((c) => ({ name: c.Name, type: c.Type })),
          location: custom.providerLocation ?? props.lakeBucket.s3UrlForObject(this.sourceLocation),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      },
    });
    if (database) table.node.addDependency(database);

    // The transformation Lambda: logs only.
    const functionLogs = new logs.LogGroup(this, 'FunctionLogs', {
      encryptionKey: this.key,
      retention: DEFAULTS.logRetentionDays as logs.RetentionDays,
    });
    this.transformFunction = new lambda.Function(this, 'Transform', {
      runtime: new lambda.Runtime(DEFAULTS.lambda.runtime, lambda.RuntimeFamily.OTHER),
      handler: DEFAULTS.lambda.handler,
      architecture: props.lambdaArchitecture ?? lambda.Architecture.ARM_64,
      code: props.lambdaCode,
      layers: props.lambdaLayers,
      memorySize: DEFAULTS.lambda.memoryMiB,
      timeout: Duration.seconds(DEFAULTS.lambda.timeoutSeconds),
      reservedConcurrentExecutions: DEFAULTS.lambda.reservedConcurrency,
      environmentEncryption: this.key,
      logGroup: functionLogs,
      description: `OCSF transformation for Firehose: ${props.sourceName}`,
      environment: {
        OCSF_VERSION: props.schema.ocsf_version,
        OCSF_ALLOWED_CLASSES: String(props.schema.class_uid),
        OCSF_TABLE_PROFILES: props.schema.profiles.join(','),
        ...tableColumnsEnvironment(props.schema),
        OCSF_METRICS_NAMESPACE: DEFAULTS.metricsNamespace,
        ...props.lambdaEnvironment,
      },
    });
    lintIgnore(this.transformFunction, ['W3005']); // CDK orders the function after its role: redundant but harmless
    skipChecks(this.transformFunction, [
      { id: 'CKV_AWS_116', comment: 'Invoked synchronously by Firehose, which retries and writes failed records to the error prefix; a DLQ never receives anything' },
      { id: 'CKV_AWS_117', comment: 'Pure computation on the records Firehose passes in; it calls no network resource, so no VPC' },
    ]);

    // The source.
    const role = new iam.Role(this, 'FirehoseRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    this.firehoseRole = role;
    let kinesisConfig: firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty | undefined;
    if (source instanceof KinesisSource) {
      const stream =
        source.existing ??
        new kinesis.Stream(this, 'Stream', {
          encryption: kinesis.StreamEncryption.KMS,
          encryptionKey: this.key,
          streamMode: source.props.onDemand ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
          shardCount: source.props.onDemand ? undefined : (source.props.shardCount ?? DEFAULTS.kinesisShardCount),
          retentionPeriod: Duration.hours(source.props.retentionHours ?? DEFAULTS.kinesisRetentionHours),
        });
      this.kinesisStream = stream;
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['kinesis:DescribeStream', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards'],
          resources: [stream.streamArn],
        }),
      );
      if (stream.encryptionKey) role.addToPolicy(kinesisKeyUse(stream.encryptionKey));
      kinesisConfig = { kinesisStreamArn: stream.streamArn, roleArn: role.roleArn };
    }

    // Firehose role: exactly the two prefixes, the table, the function, the key, its log stream.
    const writtenPrefixes = [this.sourceLocation, `errors/${props.sourceName}/`];
    const objectArns = writtenPrefixes.map((p) => props.lakeBucket.arnForObjects(`${p}*`));
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        resources: objectArns,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [props.lakeBucket.bucketArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['s3:*'],
        resources: [props.lakeBucket.bucketArn, ...objectArns],
        conditions: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: databaseName }),
          stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${databaseName}/${tableName}` }),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        resources: [this.transformFunction.functionArn, `${this.transformFunction.functionArn}:*`],
      }),
    );
    role.addToPolicy(s3KeyUse(this.key, props.lakeBucket, writtenPrefixes));

    const deliveryLogs =
      props.deliveryLogGroup ??
      new logs.LogGroup(this, 'DeliveryLogs', {
        encryptionKey: this.key,
        retention: DEFAULTS.logRetentionDays as logs.RetentionDays,
      });
    const deliveryLogStream = new logs.LogStream(this, 'DeliveryLogStream', { logGroup: deliveryLogs });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:PutLogEvents'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${deliveryLogs.logGroupName}:log-stream:${deliveryLogStream.logStreamName}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );

    const processors: firehose.CfnDeliveryStream.ProcessorProperty[] = [];
    const fromLogs = source instanceof CloudWatchLogsSource;
    if (fromLogs && props.aggregation) {
      throw new Error('aggregation: records from CloudWatch Logs are its batches, not JSON lines of a producer');
    }
    if (fromLogs) {
      processors.push(...source.processors());
    } else if (props.aggregation ?? true) {
      processors.push({
        type: 'RecordDeAggregation',
        parameters: [{ parameterName: 'SubRecordType', parameterValue: DEFAULTS.deAggregationSubRecordType }],
      });
    }
    processors.push({
      type: 'Lambda',
      parameters: [
        { parameterName: 'LambdaArn', parameterValue: this.transformFunction.functionArn },
        { parameterName: 'BufferSizeInMBs', parameterValue: String(processorSize) },
        { parameterName: 'BufferIntervalInSeconds', parameterValue: String(processorSeconds) },
        { parameterName: 'NumberOfRetries', parameterValue: String(DEFAULTS.processorRetries) },
      ],
    });

    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamType: source.kind,
      kinesisStreamSourceConfiguration: kinesisConfig,
      deliveryStreamEncryptionConfigurationInput:
        source.kind === 'DirectPut' ? { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: this.key.keyArn } : undefined,
      extendedS3DestinationConfiguration: {
        bucketArn: props.lakeBucket.bucketArn,
        roleArn: role.roleArn,
        prefix: this.prefix,
        errorOutputPrefix: errors,
        bufferingHints: { intervalInSeconds: bufferingSeconds, sizeInMBs: bufferingSize },
        compressionFormat: DEFAULTS.s3CompressionFormat,
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: this.key.keyArn } },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: deliveryLogs.logGroupName,
          logStreamName: deliveryLogStream.logStreamName,
        },
        dynamicPartitioningConfiguration: {
          enabled: true,
          retryOptions: { durationInSeconds: DEFAULTS.dynamicPartitioningRetrySeconds },
        },
        processingConfiguration: { enabled: true, processors },
        dataFormatConversionConfiguration: {
          enabled: true,
          inputFormatConfiguration: { deserializer: { openXJsonSerDe: {} } },
          outputFormatConfiguration: {
            // Every setting explicit, from the shared defaults: the local pipeline writes with the
            // same ones (crates/contract/src/parquet.rs).
            serializer: {
              parquetSerDe: {
                compression: DEFAULTS.parquetCompression,
                blockSizeBytes: DEFAULTS.parquetBlockSizeBytes,
                pageSizeBytes: DEFAULTS.parquetPageSizeBytes,
                writerVersion: DEFAULTS.parquetWriterVersion,
                enableDictionaryCompression: DEFAULTS.parquetEnableDictionaryCompression,
              },
            },
          },
          schemaConfiguration: {
            catalogId: Aws.ACCOUNT_ID,
            databaseName,
            tableName,
            region: Aws.REGION,
            roleArn: role.roleArn,
            versionId: 'LATEST',
          },
        },
      },
    });
    // Firehose checks its permissions at creation: the role's policy must exist first (the role
    // itself is already ordered by the GetAtt of its ARN).
    const rolePolicy = role.node.tryFindChild('DefaultPolicy');
    if (rolePolicy) this.deliveryStream.node.addDependency(rolePolicy);
    this.deliveryStream.node.addDependency(table);
    if (source instanceof CloudWatchLogsSource) this.subscriptionRole = source.subscribe(this, this.deliveryStream);
    // A registered source comes first without more: the prefix reads its location (GetAtt).

    this.alarms = this.createAlarms(props);
    if (props.dashboard !== false) {
      this.dashboard = pipelineDashboard(this, 'Dashboard', {
        sourceName: props.sourceName,
        functionName: this.transformFunction.functionName,
        deliveryStreamName: this.deliveryStream.ref,
        producerMetricsNamespace: props.producerMetricsNamespace,
      });
    }
  }

  private createAlarms(props: SecurityLakeFirehosePipelineProps): cloudwatch.Alarm[] {
    const period = Duration.minutes(5);
    const failed = new cloudwatch.Alarm(this, 'FailedRecordsAlarm', {
      alarmDescription: `${props.sourceName}: records failed OCSF transformation (processing-failed/ in the error prefix)`,
      metric: new cloudwatch.Metric({
        namespace: DEFAULTS.metricsNamespace,
        metricName: 'RecordsFailed',
        statistic: 'Sum',
        period,
        dimensionsMap: { FunctionName: this.transformFunction.functionName },
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const errors = new cloudwatch.Alarm(this, 'FunctionErrorsAlarm', {
      alarmDescription: `${props.sourceName}: transformation Lambda invocations failed (Firehose retries, then fails the batch)`,
      metric: this.transformFunction.metricErrors({ period }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const freshness = new cloudwatch.Alarm(this, 'DeliveryFreshnessAlarm', {
      alarmDescription: `${props.sourceName}: the oldest record waits for S3 delivery longer than 3 buffer intervals`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName: 'DeliveryToS3.DataFreshness',
        statistic: 'Maximum',
        period,
        dimensionsMap: { DeliveryStreamName: this.deliveryStream.ref },
      }),
      threshold: 3 * (props.bufferingInterval?.toSeconds() ?? DEFAULTS.bufferingIntervalSeconds),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const alarms = [failed, errors, freshness];
    if (props.alarmTopic) {
      for (const alarm of alarms) alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    }
    return alarms;
  }
}
