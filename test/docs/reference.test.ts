// docs/reference.md against the tables: a heading for every builtin variable, function and
// provider, and none for something the tables do not have. A heading may name several entries,
// separated by ', ' (`### arg0, arg1, ...`). The file is written from the tables by
// scripts/reference.ts, and must be what it writes now.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_VARIABLE_NAMES } from '../../src/model/builtins.js';
import { FUNCTION_NAMES } from '../../src/model/functions.js';
import { PROVIDER_LIST } from '../../src/model/providers.js';
import { CONFIG_VARIABLES } from '../../src/model/config.js';
import { REFERENCE_FILE, reference } from '../../scripts/reference.js';

const DOC = readFileSync(REFERENCE_FILE, 'utf8');

/** The names in the `### ` headings of a `## ` section, in order. */
function headingNames(section: string): string[] {
  const start = DOC.indexOf(`\n## ${section}\n`);
  if (start < 0) return [];
  const rest = DOC.slice(start + 1);
  const end = rest.indexOf('\n## ', 1);
  const body = end < 0 ? rest : rest.slice(0, end);
  return [...body.matchAll(/^### (.+)$/gm)].flatMap((m) => m[1]!.split(', ').map((n) => n.trim()));
}

function sorted(names: readonly string[]): string[] {
  return [...names].sort();
}

describe('docs/reference.md', () => {
  it('has one heading per builtin variable', () => {
    expect(sorted(headingNames('Builtin variables'))).toEqual(sorted(BUILTIN_VARIABLE_NAMES));
  });

  it('has one heading per function', () => {
    expect(sorted(headingNames('Functions'))).toEqual(sorted(FUNCTION_NAMES));
  });

  it('has one heading per probe type', () => {
    expect(sorted(headingNames('Probe types'))).toEqual(sorted(PROVIDER_LIST));
  });

  it('has one heading per config variable', () => {
    expect(sorted(headingNames('Config variables'))).toEqual(sorted(Object.keys(CONFIG_VARIABLES)));
  });

  it('is what scripts/reference.ts writes from the tables', () => {
    expect(DOC, 'docs/reference.md is out of date: run npx tsx scripts/reference.ts').toBe(reference());
  });
});
