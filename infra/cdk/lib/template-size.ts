/**
 * Synth fails, with a message naming the template, its size and its largest resources, when a
 * template is past what CloudFormation accepts, instead of the deployment failing later. The
 * pipeline's template grows with its Glue table (every extra `--column`, every profile) and its
 * dashboard. Register it on the app: `new App({ policyValidationBeta1: [new TemplateSizeLimit()] })`.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  IPolicyValidationContextBeta1,
  IPolicyValidationPluginBeta1,
  PolicyValidationPluginReportBeta1,
  PolicyViolationBeta1,
} from 'aws-cdk-lib';

/**
 * CloudFormation's limit on a template passed inline (`aws cloudformation deploy
 * --template-file` without `--s3-bucket`, `--template-body`):
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
export const MAX_INLINE_TEMPLATE_BYTES = 51_200;

/** CloudFormation's limit on a template read from S3, as `cdk deploy` uploads it (same page). */
export const MAX_S3_TEMPLATE_BYTES = 1_000_000;

/** The resources of a template by the bytes they take, largest first. */
function largestResources(template: { Resources?: Record<string, unknown> }, count: number): [string, number][] {
  return Object.entries(template.Resources ?? {})
    .map(([id, resource]): [string, number] => [id, Buffer.byteLength(JSON.stringify(resource))])
    .sort((a, b) => b[1] - a[1])
    .slice(0, count);
}

/** Fails synth for a template over `limit` bytes (default: the inline limit). */
export class TemplateSizeLimit implements IPolicyValidationPluginBeta1 {
  readonly name = 'ocsf-firehose-template-size';
  readonly ruleIds = ['template-size'];

  /** @param limit the largest template accepted, in bytes (`MAX_S3_TEMPLATE_BYTES` when you only deploy with `cdk deploy`) */
  constructor(private readonly limit: number = MAX_INLINE_TEMPLATE_BYTES) {}

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const violations: PolicyViolationBeta1[] = [];
    for (const templatePath of context.templatePaths) {
      const bytes = fs.statSync(templatePath).size;
      if (bytes <= this.limit) continue;
      const template = JSON.parse(fs.readFileSync(templatePath, 'utf8'));
      const largest = largestResources(template, 3);
      violations.push({
        ruleName: 'template-size',
        description:
          `${path.basename(templatePath)} is ${bytes} bytes, over the ${this.limit}-byte template limit ` +
          `(largest resources: ${largest.map(([id, size]) => `${id} ${size} bytes`).join(', ')})`,
        fix:
          'Name fewer extra columns (OCSF_TABLE_COLUMNS, glue-schema --column) or profiles, turn the dashboard off ' +
          `(dashboard: false), or deploy only through cdk deploy's S3 upload (new TemplateSizeLimit(${MAX_S3_TEMPLATE_BYTES}))`,
        violatingResources: largest.map(([id]) => ({ resourceLogicalId: id, templatePath, locations: [] })),
      });
    }
    return { success: violations.length === 0, violations };
  }
}
