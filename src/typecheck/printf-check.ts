// Checks printf arguments against the conversions of their format string.
import { typeName, type Type } from './types.js';

export interface PrintfProblem {
  readonly message: string;
  /** Index of the offending argument (after the format), if one is to blame. */
  readonly argument?: number;
}

const CONVERSION = /%(?:%|[-0 +#]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j)?([a-zA-Z]))/g;

export function checkPrintfArguments(format: string, args: readonly Type[]): PrintfProblem[] {
  const conversions = [...format.matchAll(CONVERSION)].filter((m) => m[0] !== '%%').map((m) => m[1]!);
  if (conversions.length !== args.length) {
    const which = args.length > conversions.length ? 'Too many' : 'Not enough';
    return [{ message: `printf: ${which} arguments for format string (${args.length} supplied, ${conversions.length} expected)` }];
  }
  const problems: PrintfProblem[] = [];
  conversions.forEach((c, i) => {
    const t = args[i]!;
    const wantsString = c === 's';
    const isString = t.kind === 'string' || t.kind === 'ksym' || t.kind === 'usym' || t.kind === 'username' || t.kind === 'inet' || t.kind === 'buffer';
    if (wantsString !== isString && !(c === 's' && (t.kind === 'tuple' || t.kind === 'kstack' || t.kind === 'ustack'))) {
      problems.push({
        argument: i,
        message: `printf: %${c} specifier expects a value of type ${wantsString ? 'string' : 'integer'} (${typeName(t)} supplied)`,
      });
    }
  });
  return problems;
}
