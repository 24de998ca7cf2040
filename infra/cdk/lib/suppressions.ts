/**
 * Scanner suppressions written next to the resource they concern, each with its reason
 * (checkov reads `Metadata.checkov.skip`, cfn-lint `Metadata.cfn-lint.config.ignore_checks`).
 */
import { CfnResource, IAspect } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/** One skipped check and why. */
export interface SkippedCheck {
  readonly id: string;
  readonly comment: string;
}

/** Adds checkov skips to the CloudFormation resources under `scope`. */
export function skipChecks(scope: IConstruct, checks: SkippedCheck[]): void {
  for (const child of scope.node.findAll()) {
    if (child instanceof CfnResource) {
      const existing = (child.getMetadata('checkov') as { skip?: SkippedCheck[] } | undefined)?.skip ?? [];
      const ids = new Set(existing.map((c) => c.id));
      child.addMetadata('checkov', { skip: [...existing, ...checks.filter((c) => !ids.has(c.id))] });
    }
  }
}

/** Adds cfn-lint rules to ignore on the CloudFormation resources directly under `scope`. */
export function lintIgnore(scope: IConstruct, rules: string[]): void {
  const resource = scope.node.defaultChild;
  if (resource instanceof CfnResource) {
    resource.addMetadata('cfn-lint', { config: { ignore_checks: rules } });
  }
}

/**
 * The singleton Lambda functions CDK adds for custom resources (the Security Lake registration,
 * log retention) run once per deployment with an AWS-managed role: the checks meant for
 * workload functions do not apply to them.
 */
export class CustomResourceFunctionChecks implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof lambda.CfnFunction && node.node.path.includes('AWS679f53fac002430cb0da5b7982bd2287')) {
      // CDK orders the function after its role: a redundant DependsOn, harmless.
      node.addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
      skipChecks(node, [
        { id: 'CKV_AWS_115', comment: 'CDK custom-resource function: runs once per deployment, no concurrency limit needed' },
        { id: 'CKV_AWS_116', comment: 'CDK custom-resource function: CloudFormation reports its failures, no DLQ' },
        { id: 'CKV_AWS_117', comment: 'CDK custom-resource function: calls only AWS APIs, no VPC resources' },
        { id: 'CKV_AWS_173', comment: 'CDK custom-resource function: no environment variables holding secrets' },
      ]);
    }
  }
}
