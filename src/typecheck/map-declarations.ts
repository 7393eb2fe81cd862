// Map declarations (bpftrace 0.22+): `let @m = lruhash(100);` gives a map its kernel type and
// max entries. As in bpftrace, the type must fit the values: aggregations (count(), hist()...)
// are kept per CPU (percpuhash, percpulruhash), other values are not (hash, lruhash).
import type { MapDeclaration } from '../model/ast.js';
import { bucketCount, isPerCpu, type BpfMapType, type MapSpec } from '../model/program.js';
import { error, warning, withNote, type Diagnostic } from '../diagnostics/diagnostic.js';
import { closest } from '../diagnostics/render.js';

/** The declared types, by their bpftrace name. */
const DECLARED_TYPES: Readonly<Record<string, BpfMapType>> = {
  hash: 'hash', lruhash: 'lru_hash', percpuhash: 'percpu_hash', percpulruhash: 'lru_percpu_hash',
};
const TYPE_NAMES = Object.keys(DECLARED_TYPES);
/** The kernel's bound on max_entries (a u32). */
const MAX_ENTRIES = 2 ** 32 - 1;

export interface DeclaredMap {
  readonly declaration: MapDeclaration;
  readonly type: BpfMapType;
  readonly maxEntries: number;
}

/** The valid declarations by map; each wrong one reported. `used`: the maps the probes use. */
export function checkMapDeclarations(
  declarations: readonly MapDeclaration[], used: ReadonlySet<string>, diagnostics: Diagnostic[],
): Map<string, DeclaredMap> {
  const out = new Map<string, DeclaredMap>();
  const seen = new Map<string, MapDeclaration>();
  for (const d of declarations) {
    const earlier = seen.get(d.map);
    if (earlier) {
      diagnostics.push(withNote(error('E_MAP_DECLARATION', d.mapSpan, `map ${d.map} is declared twice`), earlier.span, 'first declared here'));
      continue;
    }
    seen.set(d.map, d);
    const type = DECLARED_TYPES[d.type];
    if (!type) {
      const near = closest(d.type, TYPE_NAMES);
      diagnostics.push(error('E_MAP_DECLARATION', d.typeSpan, `unknown map type '${d.type}'`,
        near ? `did you mean ${near}? (the types are ${TYPE_NAMES.join(', ')})` : `the types are ${TYPE_NAMES.join(', ')}`));
      continue;
    }
    if (d.maxEntries === undefined || d.maxEntries < 1n || d.maxEntries > BigInt(MAX_ENTRIES)) {
      diagnostics.push(error('E_MAP_DECLARATION', d.argsSpan,
        d.maxEntries === undefined ? `${d.type}() takes one integer literal: the map's max entries` : `max entries must be between 1 and ${MAX_ENTRIES}`,
        `e.g. let ${d.map} = ${d.type}(1024);`));
      continue;
    }
    if (!used.has(d.map)) diagnostics.push(warning('W_UNUSED_MAP', d.mapSpan, `map ${d.map} is declared but never used`));
    out.set(d.map, { declaration: d, type, maxEntries: Number(d.maxEntries) });
  }
  return out;
}

/** A map's spec with its declaration applied; a type that does not fit its values is reported. */
export function declaredSpec(spec: MapSpec, declared: DeclaredMap | undefined, diagnostics: Diagnostic[]): MapSpec {
  if (!declared) return spec;
  const perCpu = spec.kind !== 'scalar';
  const { declaration: d, type } = declared;
  if (isPerCpu(type) !== perCpu) {
    const fits = TYPE_NAMES.filter((n) => isPerCpu(DECLARED_TYPES[n]!) === perCpu).join(' or ');
    const holds = perCpu ? `${spec.kind}() values, kept per CPU` : 'plain values, not per CPU';
    diagnostics.push(withNote(error('E_MAP_DECLARATION', d.typeSpan, `${d.map} holds ${holds}: it cannot be a ${d.type}`,
      `declare it as ${fits}`), spec.span, `${d.map} is given its value here`));
    return spec;
  }
  // hist/lhist keep one entry per (key, bucket) (tseries per (key, slot)): N keys take N × buckets entries; without a key
  // the map holds its buckets. A count() without a key becomes a hash of one zero key.
  const buckets = bucketCount(spec);
  return {
    ...spec,
    bpfType: type,
    keySize: Math.max(8, spec.keySize),
    maxEntries: buckets > 1 && !spec.keyType ? buckets : Math.min(MAX_ENTRIES, declared.maxEntries * buckets),
    // The kernel allocates every entry of an LRU map up front (it refuses BPF_F_NO_PREALLOC there).
    preallocate: spec.preallocate || type.startsWith('lru'),
    declaredAs: `${d.type}(${declared.maxEntries})`,
  };
}
