/**
 * Registers the Security Lake custom source. CloudFormation has no resource for custom sources,
 * so a custom resource calls `securitylake:CreateCustomLogSource` on create and
 * `DeleteCustomLogSource` on delete.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { DEFAULTS, registeredSourceLocation, sourceLocation } from './defaults';

/** What `CreateCustomLogSource` needs. */
export interface CustomSourceRegistrationProps {
  /** Source version. @default "1.0" */
  readonly sourceVersion?: string;
  /** OCSF event classes in Security Lake's spelling, e.g. `AUTHENTICATION`, `API_ACTIVITY`. */
  readonly eventClasses: string[];
  /** The role Security Lake's Glue crawler assumes. @default a new role with the Glue service policy */
  readonly crawlerRole?: iam.IRole;
  /** The principal (account id) allowed to write to the source. @default this stack's account */
  readonly providerPrincipal?: string;
  /** External id for the provider role. */
  readonly providerExternalId: string;
}

/** Checks a custom source name: Security Lake's provider role name must fit 64 characters. */
export function checkSourceName(name: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(name) || name.length > DEFAULTS.maxSourceNameLength) {
    throw new Error(
      `sourceName "${name}" must be 1-${DEFAULTS.maxSourceNameLength} characters of letters, digits, _ and - ` +
        '(Security Lake names a role AmazonSecurityLake-Provider-<name>-<region>, at most 64 characters)',
    );
  }
}

/**
 * What the registration's role may do: `CreateCustomLogSource`/`DeleteCustomLogSource` on this
 * region's data lake, and what they do on the caller's behalf (the actions the Service
 * Authorization Reference lists as their dependent actions), each scoped to what Security Lake
 * creates for this source:
 * - the provider role `AmazonSecurityLake-Provider-<source>-<region>`;
 * - Glue crawlers of this account and region, and the `amazon_security_lake_glue_db_*` database
 *   and its tables (Security Lake names them after the region);
 * - the lake bucket: `s3:ListBucket` on it and `s3:PutObject` under `ext/<source>/` only;
 * - Lake Formation, whose actions have no resource-level permissions
 *   (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslakeformation.html):
 *   `*`, but only in this region (`aws:RequestedRegion`);
 * - `iam:PassRole` of the crawler role only.
 */
export function registrationStatements(
  stack: Stack,
  sourceName: string,
  lakeBucket: s3.IBucket,
  crawlerRole: iam.IRole,
): iam.PolicyStatement[] {
  const arn = (service: string, resource: string, resourceName?: string, region?: string) =>
    stack.formatArn({ service, resource, resourceName, region });
  return [
    new iam.PolicyStatement({
      sid: 'RegisterTheSource',
      actions: ['securitylake:CreateCustomLogSource', 'securitylake:DeleteCustomLogSource'],
      resources: [arn('securitylake', 'data-lake', 'default')],
    }),
    new iam.PolicyStatement({
      sid: 'TheProviderRole',
      actions: ['iam:CreateRole', 'iam:DeleteRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:GetRole'],
      resources: [arn('iam', 'role', `AmazonSecurityLake-Provider-${sourceName}-*`, '')],
    }),
    new iam.PolicyStatement({
      sid: 'TheCrawler',
      actions: ['glue:CreateCrawler', 'glue:DeleteCrawler', 'glue:StartCrawlerSchedule', 'glue:StopCrawlerSchedule'],
      resources: [arn('glue', 'crawler', '*')],
    }),
    new iam.PolicyStatement({
      sid: 'TheSecurityLakeDatabase',
      actions: ['glue:CreateDatabase', 'glue:CreateTable'],
      resources: [
        arn('glue', 'catalog'),
        arn('glue', 'database', 'amazon_security_lake_glue_db_*'),
        arn('glue', 'table', 'amazon_security_lake_glue_db_*/*'),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'TheSourceLocation',
      actions: ['s3:PutObject'],
      resources: [lakeBucket.arnForObjects(`${sourceLocation(sourceName)}*`)],
    }),
    new iam.PolicyStatement({ sid: 'TheLakeBucket', actions: ['s3:ListBucket'], resources: [lakeBucket.bucketArn] }),
    new iam.PolicyStatement({
      sid: 'LakeFormationInThisRegion',
      actions: ['lakeformation:RegisterResource', 'lakeformation:GrantPermissions', 'lakeformation:RevokePermissions'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:RequestedRegion': stack.region },
      },
    }),
    new iam.PolicyStatement({ sid: 'PassTheCrawlerRole', actions: ['iam:PassRole'], resources: [crawlerRole.roleArn] }),
  ];
}

/** The registration custom resource. */
export class CustomSourceRegistration extends Construct {
  /** `source.provider.location` as Security Lake returns it. */
  readonly location: string;

  constructor(
    scope: Construct,
    id: string,
    sourceName: string,
    lakeBucket: s3.IBucket,
    props: CustomSourceRegistrationProps,
  ) {
    super(scope, id);
    const stack = Stack.of(this);
    const sourceVersion = props.sourceVersion ?? '1.0';
    const crawlerRole =
      props.crawlerRole ??
      new iam.Role(this, 'CrawlerRole', {
        assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSGlueServiceRole')],
      });
    const resource = new cr.AwsCustomResource(this, 'Resource', {
      installLatestAwsSdk: false,
      onCreate: {
        service: 'SecurityLake',
        action: 'CreateCustomLogSource',
        parameters: {
          sourceName,
          sourceVersion,
          eventClasses: props.eventClasses,
          configuration: {
            crawlerConfiguration: { roleArn: crawlerRole.roleArn },
            providerIdentity: {
              externalId: props.providerExternalId,
              principal: props.providerPrincipal ?? stack.account,
            },
          },
        },
        physicalResourceId: cr.PhysicalResourceId.of(`${sourceName}/${sourceVersion}`),
      },
      onDelete: {
        service: 'SecurityLake',
        action: 'DeleteCustomLogSource',
        parameters: { sourceName, sourceVersion },
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements(registrationStatements(stack, sourceName, lakeBucket, crawlerRole)),
    });
    this.location = resource.getResponseField('source.provider.location');
  }
}

/** Where a custom source's objects go, and the registration's own location when registered here. */
export interface CustomSourceLocation {
  /** The key prefix (`ext/<source>/`): from the registration's location, else built from the name. */
  readonly sourceLocation: string;
  /** `source.provider.location` (`s3://<bucket>/ext/<source>/`) when registered here. */
  readonly providerLocation?: string;
}

/**
 * The custom source `sourceName`: registered under `scope` when `register` is given (its location
 * is then what Security Lake returns, a deploy-time token), else assumed to exist at
 * `ext/<source>/`. The Firehose pipeline and the direct source both start here.
 */
export function customSource(
  scope: Construct,
  sourceName: string,
  lakeBucket: s3.IBucket,
  register?: CustomSourceRegistrationProps,
): CustomSourceLocation {
  checkSourceName(sourceName);
  if (!register) {
    return { sourceLocation: sourceLocation(sourceName) };
  }
  const registration = new CustomSourceRegistration(scope, 'CustomSource', sourceName, lakeBucket, register);
  return {
    sourceLocation: registeredSourceLocation(registration.location),
    providerLocation: registration.location,
  };
}
