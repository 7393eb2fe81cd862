// Signatures of the functions a script can call (argument counts; argument types are checked
// where each call is typed in check.ts).

export interface FunctionSpec {
  readonly minArgs: number;
  readonly maxArgs: number;
}

const spec = (minArgs: number, maxArgs = minArgs): FunctionSpec => ({ minArgs, maxArgs });

export const AGGREGATIONS: ReadonlySet<string> = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'lhist',
]);

export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map([
  ['count', spec(0)],
  ['sum', spec(1)],
  ['avg', spec(1)],
  ['min', spec(1)],
  ['max', spec(1)],
  ['stats', spec(1)],
  ['hist', spec(1)],
  ['lhist', spec(4)],
  ['printf', spec(1, Infinity)],
  ['print', spec(1, 3)],
  ['time', spec(0, 1)],
  ['clear', spec(1)],
  ['zero', spec(1)],
  ['delete', spec(1, 2)],
  ['exit', spec(0)],
  ['str', spec(1, 2)],
]);
