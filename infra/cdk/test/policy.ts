/**
 * A small IAM policy evaluator for the tests: does a set of statements allow one request? It
 * follows IAM's rules for what the construct emits (explicit deny wins; `Action`, `Resource` and
 * `Principal` match with `*`/`?` wildcards; every condition operator of a statement must hold, any
 * value of a key may match, a key missing from the request fails the operator), so that the
 * tests can assert what a principal can and cannot do rather than the text of the policy.
 * Deploy-time values are resolved with {@link evaluate}.
 */
import { Deployed, evaluate } from './intrinsics';

/** One request: who, what, on which resource, with which request context keys. */
export interface Request {
  /** A service principal (`logs.us-east-1.amazonaws.com`) or an ARN; only checked for statements with a `Principal`. */
  readonly principal?: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).map(String);

function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, caseInsensitive ? 'i' : '').test(value);
}

const OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: (p, v) => glob(p, v),
  ArnLike: (p, v) => glob(p, v),
  ArnEquals: (p, v) => p === v,
  Bool: (p, v) => p.toLowerCase() === v.toLowerCase(),
};

function conditionsHold(conditions: Record<string, Record<string, unknown>> | undefined, context: Record<string, string>): boolean {
  return Object.entries(conditions ?? {}).every(([operator, keys]) => {
    const test = OPERATORS[operator];
    if (!test) throw new Error(`the evaluator does not know the condition operator ${operator}`);
    return Object.entries(keys).every(([key, values]) => key in context && list(values).some((p) => test(p, context[key])));
  });
}

function principalMatches(principal: unknown, request: Request): boolean {
  if (principal === undefined) return true;
  if (principal === '*') return true;
  if (!request.principal) return false;
  return Object.values(principal as Record<string, unknown>).some((ids) => list(ids).some((id) => glob(id, request.principal!)));
}

function matches(statement: any, request: Request): boolean {
  return (
    list(statement.Action).some((a) => glob(a, request.action, true)) &&
    list(statement.Resource).some((r) => glob(r, request.resource)) &&
    principalMatches(statement.Principal, request) &&
    conditionsHold(statement.Condition, request.context ?? {})
  );
}

/** Whether `statements` (CloudFormation JSON, intrinsics resolved with `deployed`) allow `request`. */
export function allows(statements: unknown[], request: Request, deployed: Deployed): boolean {
  const resolved = statements.map((s) => evaluate(s, deployed) as any);
  if (resolved.some((s) => s.Effect === 'Deny' && matches(s, request))) return false;
  return resolved.some((s) => s.Effect === 'Allow' && matches(s, request));
}
