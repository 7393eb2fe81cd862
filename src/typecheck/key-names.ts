// The name each part of a map key takes where a key becomes named data (labels of a Prometheus
// series, pprof labels, the typed maps of the API): the key expression names itself when it is
// a builtin (`comm`, `pid`, `cpu`, `probe`, `kstack`...), a tracepoint field (`args->filename`,
// `args.fd`) or a scratch variable (`$fd`: how a user names any other key). Else it has no name.
import type { Expr } from '../model/ast.js';

export function keyNames(keys: readonly Expr[]): (string | undefined)[] {
  return keys.map(keyName);
}

function keyName(e: Expr): string | undefined {
  switch (e.kind) {
    case 'Builtin':
    case 'Variable':
      return e.name;
    case 'FieldAccess':
      return e.object.kind === 'Builtin' && e.object.name === 'args' ? e.field : undefined;
    case 'Cast':
      return keyName(e.operand);
    case 'Call':
      // str(args->filename) is still the filename; kstack(perf) the kernel stack.
      if (e.name === 'kstack' || e.name === 'ustack') return e.name;
      return (e.name === 'str' || e.name === 'ksym' || e.name === 'usym') && e.args[0] ? keyName(e.args[0]) : undefined;
    default:
      return undefined;
  }
}
