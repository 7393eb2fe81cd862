// Writes docs/reference.md from the tables in src/model: every builtin variable, function and probe
// type, one heading each, so the reference cannot drift from what the compiler knows
// (test/docs/reference.test.ts checks that the file is what this writes).
//
//   npx tsx scripts/reference.ts

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILTIN_VARIABLES } from '../src/model/builtins.js';
import { BUILTIN_FUNCTIONS, FUNCTION_NAMES, type BuiltinFunction } from '../src/model/functions.js';
import { PROVIDER_LIST, providerRecord } from '../src/model/providers.js';

export const REFERENCE_FILE = fileURLToPath(new URL('../docs/reference.md', import.meta.url));

const code = (s: string): string => `\`${s}\``;

/** A `## ` section: one `### ` heading and its paragraphs per entry. */
function section(title: string, entries: readonly { heading: string; paragraphs: readonly string[] }[]): string {
  return `## ${title}\n${entries.map((e) => `\n### ${e.heading}\n\n${e.paragraphs.join('\n\n')}\n`).join('')}`;
}

function functionParagraphs(f: BuiltinFunction): string[] {
  return [
    `${f.signature.split(' or ').map(code).join(' or ')} returns ${f.returns}. ${f.doc}`,
    ...(f.unsafe ? ['Unsafe: refused without `--unsafe`.'] : []),
    ...(f.providers ? [`Only in ${f.providers.join(', ')} probes.`] : []),
    ...(f.differs ? [`Unlike bpftrace 0.17: ${f.differs}`] : []),
  ];
}

/** The text of docs/reference.md. */
export function reference(): string {
  const variables = Object.values(BUILTIN_VARIABLES).map((v) => ({ heading: v.names.join(', '), paragraphs: [v.doc] }));
  const functions = FUNCTION_NAMES.map((name) => ({ heading: name, paragraphs: functionParagraphs(BUILTIN_FUNCTIONS[name]) }));
  const providers = PROVIDER_LIST.map((p) => {
    const r = providerRecord(p);
    const aliases = r.aliases.length ? ` (also written ${r.aliases.map(code).join(', ')})` : '';
    return { heading: p, paragraphs: [`${code(r.syntax)}${aliases}: ${r.doc}`] };
  });
  return [
    '# tracelet reference\n',
    'Every builtin variable, function and probe type, one heading each, written from the tables in `src/model` ' +
      'by `scripts/reference.ts` (`test/docs/reference.test.ts` checks that it is up to date).\n',
    section('Builtin variables', variables),
    section('Functions', functions),
    section('Probe types', providers),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeFileSync(REFERENCE_FILE, reference());
