/**
 * Registers the Security Lake custom source. CloudFormation has no resource for custom sources,
 * so a custom resource calls `securitylake:CreateCustomLogSource` on create and
 * `DeleteCustomLogSource` on delete.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { DEFAULTS, registeredSourceLocation, sourceLocation } from './defaults';
import { skipChecks } from './suppressions';

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

/** The registration custom resource. */
export class CustomSourceRegistration extends Construct {
  /** `source.provider.location` as Security Lake returns it. */
  readonly location: string;

  constructor(scope: Construct, id: string, sourceName: string, props: CustomSourceRegistrationProps) {
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
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['securitylake:CreateCustomLogSource', 'securitylake:DeleteCustomLogSource'],
          resources: ['*'],
        }),
        // What CreateCustomLogSource does on the caller's behalf: the provider role (named by
        // Security Lake after the source), the Glue crawler/database/table and the Lake
        // Formation registration of the prefix.
        new iam.PolicyStatement({
          actions: ['iam:CreateRole', 'iam:DeleteRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:GetRole'],
          resources: [
            stack.formatArn({
              service: 'iam',
              region: '',
              resource: 'role',
              resourceName: `AmazonSecurityLake-Provider-${sourceName}-*`,
            }),
          ],
        }),
        new iam.PolicyStatement({
          actions: [
            'glue:CreateCrawler',
            'glue:DeleteCrawler',
            'glue:CreateDatabase',
            'glue:CreateTable',
            'glue:StartCrawlerSchedule',
            'glue:StopCrawlerSchedule',
            'lakeformation:RegisterResource',
            'lakeformation:GrantPermissions',
            'lakeformation:RevokePermissions',
            's3:ListBucket',
            's3:PutObject',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [crawlerRole.roleArn] }),
      ]),
    });
    this.location = resource.getResponseField('source.provider.location');
    skipChecks(resource, [
      {
        id: 'CKV_AWS_111',
        comment:
          'CreateCustomLogSource creates Glue crawlers, databases and tables and Lake Formation grants whose names Security Lake chooses; they cannot be scoped in advance (its IAM role actions are scoped)',
      },
    ]);
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
  register?: CustomSourceRegistrationProps,
): CustomSourceLocation {
  checkSourceName(sourceName);
  if (!register) {
    return { sourceLocation: sourceLocation(sourceName) };
  }
  const registration = new CustomSourceRegistration(scope, 'CustomSource', sourceName, register);
  return {
    sourceLocation: registeredSourceLocation(registration.location),
    providerLocation: registration.location,
  };
}
