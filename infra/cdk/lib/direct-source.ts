/**
 * The direct path: a Security Lake custom source that applications (the producer's
 * `ProducerBuilder::s3`, `ocsf-firehose upload`) write into themselves, without Firehose. It
 * registers the source (optionally), and gives the least-privilege policy a writer needs:
 * `s3:PutObject` (multipart uploads included) and `s3:AbortMultipartUpload` on the source's
 * location only, and, when the lake bucket encrypts with a customer-managed key, that key's
 * `kms:GenerateDataKey` and `kms:Decrypt` (multipart uploads) through S3 for that location only.
 */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { customSource, CustomSourceRegistrationProps } from './custom-source';
import { s3KeyUse } from './key-access';

/** Props of {@link SecurityLakeDirectSource}. */
export interface SecurityLakeDirectSourceProps {
  /** The Security Lake bucket (`aws-security-data-lake-<region>-<id>`). */
  readonly lakeBucket: s3.IBucket;
  /** The custom source name (at most 20 characters). */
  readonly sourceName: string;
  /** Register the custom source (omit when it exists). */
  readonly registerCustomSource?: CustomSourceRegistrationProps;
  /** The key the lake bucket encrypts with, when it is a customer-managed KMS key. */
  readonly lakeKey?: kms.IKey;
  /** Principals to grant the writer policy to (an application's role). */
  readonly writers?: iam.IRole[];
}

/** A custom source written directly, and the policy its writers need. */
export class SecurityLakeDirectSource extends Construct {
  /** The source location (`ext/<source>/`, from registration when the construct registers). */
  readonly sourceLocation: string;
  /** `s3:PutObject` on the source location only (plus the lake key's use through S3, if any). */
  readonly writerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: SecurityLakeDirectSourceProps) {
    super(scope, id);
    this.sourceLocation = customSource(this, props.sourceName, props.lakeBucket, props.registerCustomSource).sourceLocation;
    const statements = [
      new iam.PolicyStatement({
        sid: 'WriteSecurityLakeObjects',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [props.lakeBucket.arnForObjects(`${this.sourceLocation}*`)],
      }),
    ];
    if (props.lakeKey) statements.push(s3KeyUse(props.lakeKey, props.lakeBucket, [this.sourceLocation]));
    this.writerPolicy = new iam.ManagedPolicy(this, 'WriterPolicy', {
      description: `ocsf-firehose direct writer of custom source ${props.sourceName}`,
      statements,
      roles: props.writers,
    });
    const stack = Stack.of(this);
    new CfnOutput(this, 'SourceLocation', {
      description: `Where ${props.sourceName}'s objects go (ProducerBuilder::s3, ocsf-firehose upload --prefix)`,
      value: `s3://${props.lakeBucket.bucketName}/${this.sourceLocation}`,
    });
    new CfnOutput(this, 'WriterPolicyArn', {
      description: `Attach to the writers of ${props.sourceName} (${stack.stackName})`,
      value: this.writerPolicy.managedPolicyArn,
    });
  }
}
