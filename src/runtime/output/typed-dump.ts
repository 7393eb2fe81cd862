// Printing a large count()/sum() map straight from the kernel's dump. The general path decodes
// every entry into BigInts and objects, sorts those and formats them one by one: for 100k keys
// that costs several times the kernel's read. Here the map's text is described as rows (literal
// bytes, key elements, the value) and the addon renders them (RawDump.render: the per-CPU sums,
// std::sort by value as bpftrace sorts, and the rows, from the dump's bytes), in pieces written
// as they are made: no object or string per entry and no map-sized text. The same bytes as the
// general path's text. Maps this does not cover (other aggregations, key types other than
// integers and strings, print() with top or div) take the general path.
import { isPerCpu, type MapSpec } from '../../model/program.js';
import { bytesToString } from '../../model/strings.js';
import { alignUp, tupleLayout } from '../../model/types.js';
import type { DumpField, DumpRows } from '../native.js';
import { aggSigned, jsonEscape, keyElementTypes, keyPrintType } from './values.js';
import type { RawDump } from './model.js';

/** Below this many entries the general path is as fast. */
const MIN_ENTRIES = 256;

const ASCII = (s: string) => Buffer.from(s, 'latin1');

/** What bpftrace's json_escape writes for each byte of a string (see jsonEscape in values.ts). */
const JSON_ESCAPES: readonly (Buffer | undefined)[] = Array.from({ length: 256 }, (_, c) => {
  if (c >= 0x80) return ASCII('\\u' + ((0xffffff00 | c) >>> 0).toString(16)); // a byte of UTF-8
  const escaped = jsonEscape(String.fromCharCode(c));
  return escaped.length === 1 ? undefined : ASCII(escaped);
});

/**
 * The rows of the map as mapToText (`@name[k1, k2]: v` lines) or mapToJson (`"k1,k2": v`, joined
 * by `, `) prints its entries, or undefined when the general path must print it.
 */
function dumpRows(spec: MapSpec, raw: RawDump, json: boolean): DumpRows | undefined {
  if ((spec.kind !== 'count' && spec.kind !== 'sum') || raw.count < MIN_ENTRIES || spec.valueSize !== 8) return undefined;
  const types = keyElementTypes(spec).map(keyPrintType);
  if (types.length === 0 || !types.every((t) => t.kind === 'int' || t.kind === 'string')) return undefined;
  const offsets = spec.keyType?.kind === 'tuple' ? tupleLayout(types).offsets : [0];
  const fields: DumpField[] = [{ kind: 'literal', bytes: json ? ASCII('"') : Buffer.from(spec.name + '[') }]; // a map's name is ASCII
  for (const [i, t] of types.entries()) {
    if (i > 0) fields.push({ kind: 'literal', bytes: ASCII(json ? ',' : ', ') });
    if (t.kind === 'string') fields.push({ kind: 'string', offset: offsets[i]!, size: t.size });
    else if (t.kind === 'int') fields.push({ kind: 'int', offset: offsets[i]!, size: t.bits / 8, signed: t.signed });
  }
  fields.push({ kind: 'literal', bytes: ASCII(json ? '": ' : ']: ') }, { kind: 'value' });
  if (!json) fields.push({ kind: 'literal', bytes: ASCII('\n') });
  const perCpu = isPerCpu(spec.bpfType);
  return {
    keySize: spec.keySize,
    valueBytes: perCpu ? alignUp(spec.valueSize, 8) * raw.cpus : spec.valueSize,
    slots: perCpu ? raw.cpus : 1,
    // count prints as a uint64, sum as its type says (aggregateValue).
    signed: spec.kind === 'sum' && aggSigned(spec, true),
    fields,
    separator: ASCII(json ? ', ' : ''),
    ...(json ? { escapes: JSON_ESCAPES } : {}),
  };
}

/**
 * Writes the map as `mapToText` (or `mapToJson`) would print it, as bytes, in pieces each valid
 * only during the `write` call and each ending after a whole entry; false (nothing written) when
 * the general path must print it.
 */
export function writeTypedMap(spec: MapSpec, raw: RawDump, json: boolean, write: (bytes: Uint8Array) => void): boolean {
  const rows = dumpRows(spec, raw, json);
  if (!rows) return false;
  if (json) write(ASCII(`{"type": "map", "data": {"${jsonEscape(spec.name)}": {`));
  raw.render(rows, write);
  if (json) write(ASCII('}}}\n'));
  return true;
}

/** The text of writeTypedMap, or undefined. */
function typedMapString(spec: MapSpec, raw: RawDump, json: boolean): string | undefined {
  // Each piece ends after a whole entry, after an ASCII byte: decoding them one by one gives the
  // text the whole would decode to.
  const pieces: string[] = [];
  return writeTypedMap(spec, raw, json, (bytes) => pieces.push(bytesToString(bytes))) ? pieces.join('') : undefined;
}

/** mapToText of a large count()/sum() map, or undefined. */
export function typedMapText(spec: MapSpec, raw: RawDump): string | undefined {
  return typedMapString(spec, raw, false);
}

/** mapToJson of a large count()/sum() map, or undefined. */
export function typedMapJson(spec: MapSpec, raw: RawDump): string | undefined {
  return typedMapString(spec, raw, true);
}
