/**
 * Evaluates the CloudFormation intrinsic functions the construct emits for deploy-time values
 * (`Fn::Join`, `Fn::Select`, `Fn::Split`, `Ref`, `Fn::GetAtt`), with the values a deployment would
 * supply, so that tests assert what CloudFormation would compute rather than the expression text.
 */

/** Values for `Ref` (by logical id) and `Fn::GetAtt` (by `logicalId.attribute`). */
export type Deployed = Record<string, string>;

/** The value CloudFormation computes for `expr`; throws on a function or reference it cannot resolve. */
export function evaluate(expr: unknown, deployed: Deployed): unknown {
  if (typeof expr === 'string' || typeof expr === 'number' || typeof expr === 'boolean') return expr;
  if (Array.isArray(expr)) return expr.map((e) => evaluate(e, deployed));
  if (expr === null || typeof expr !== 'object') throw new Error(`unexpected ${String(expr)}`);
  const entries = Object.entries(expr as Record<string, unknown>);
  if (entries.length !== 1 || !(entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
    return Object.fromEntries(entries.map(([k, v]) => [k, evaluate(v, deployed)]));
  }
  const [fn, args] = entries[0];
  const list = (value: unknown): unknown[] => {
    if (!Array.isArray(value)) throw new Error(`${fn}: expected a list, got ${JSON.stringify(value)}`);
    return value;
  };
  switch (fn) {
    case 'Ref':
    case 'Fn::GetAtt': {
      const key = fn === 'Ref' ? String(args) : (args as string[]).join('.');
      if (!(key in deployed)) throw new Error(`no deployed value for ${fn} ${key}`);
      return deployed[key];
    }
    case 'Fn::Join': {
      const [separator, parts] = list(args);
      return list(evaluate(parts, deployed)).join(String(separator));
    }
    case 'Fn::Select': {
      const [index, from] = list(args);
      const values = list(evaluate(from, deployed));
      const i = Number(evaluate(index, deployed));
      if (!(i >= 0 && i < values.length)) throw new Error(`Fn::Select index ${i} out of ${values.length}`);
      return values[i];
    }
    case 'Fn::Split': {
      const [separator, source] = list(args);
      if (typeof separator !== 'string') throw new Error('Fn::Split needs a literal delimiter');
      return String(evaluate(source, deployed)).split(separator);
    }
    default:
      throw new Error(`unsupported ${fn}`);
  }
}
