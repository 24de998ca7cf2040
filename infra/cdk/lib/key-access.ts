/**
 * Who may use a KMS key, and through which service: the statements the pipeline and the direct
 * source share. Every key use is bound to the AWS service that makes it (`kms:ViaService`) and,
 * where the service supplies one, to the encryption context naming our resources, so that a
 * principal holding one of these grants cannot use the key directly or for anything else.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';

/** `kms:ViaService` of a regional service endpoint in the stack's region, e.g. `s3.us-east-1.amazonaws.com`. */
export function viaService(service: 's3' | 'kinesis'): string {
  return `${service}.${Aws.REGION}.${Aws.URL_SUFFIX}`;
}

/**
 * Lets CloudWatch Logs in this region encrypt log groups of this account (only) with `key`: the key
 * policy statement of "Encrypt log data in CloudWatch Logs using AWS Key Management Service"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html), bound by
 * the `kms:EncryptionContext:aws:logs:arn` condition to `log-group:*` of this account and region
 * (the groups' names are generated, and naming them here would make the key depend on them).
 * An imported key's policy cannot be changed: its owner adds the same statement.
 */
export function allowLogsToUseKey(key: kms.IKey): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsOfThisAccount',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
        },
      },
    }),
  );
}

/**
 * SSE-KMS writes through S3 only, to `bucket` under `prefixes` only: `kms:GenerateDataKey` for
 * each object and `kms:Decrypt`, which multipart uploads need to assemble the parts (objects over
 * the SDK's multipart threshold, 16 MiB for the producer's writer). See "Protecting data with
 * server-side encryption with AWS KMS keys" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html)
 * and Firehose's "Grant Firehose access to an Amazon S3 destination"
 * (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3).
 * The encryption context S3 passes is the object ARN, or the bucket ARN when the bucket uses an
 * S3 Bucket Key: both are allowed, and the statement's other policies still limit the keys written.
 */
export function s3KeyUse(key: kms.IKey, bucket: s3.IBucket, prefixes: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'EncryptObjectsThroughS3',
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    resources: [key.keyArn],
    conditions: {
      StringEquals: { 'kms:ViaService': viaService('s3') },
      StringLike: {
        'kms:EncryptionContext:aws:s3:arn': [bucket.bucketArn, ...prefixes.map((p) => bucket.arnForObjects(`${p}*`))],
      },
    },
  });
}

/**
 * Reading a KMS-encrypted Kinesis stream: `kms:Decrypt` through Kinesis only ("Permissions to use
 * user-generated KMS keys", https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html).
 */
export function kinesisKeyUse(key: kms.IKey): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DecryptTheStreamThroughKinesis',
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': viaService('kinesis') } },
  });
}
