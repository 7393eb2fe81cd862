// grammar/tracelet.ebnf documents the parser: every chevrotain rule must appear there under the
// same name, and the syntax diagrams must be generable from the parser.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSyntaxDiagramsCode } from 'chevrotain';
import { serializedGrammar } from '../../src/parser/parser.js';

const ebnf = readFileSync(new URL('../../grammar/tracelet.ebnf', import.meta.url), 'utf8');
const defined = new Set([...ebnf.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map((m) => m[1]!));

describe('grammar/tracelet.ebnf', () => {
  const rules = serializedGrammar().map((r) => (r as unknown as { name: string }).name);

  it('defines every parser rule', () => {
    expect(rules.length).toBeGreaterThan(20);
    expect(rules.filter((r) => !defined.has(r))).toEqual([]);
  });

  it('refers only to defined rules and tokens', () => {
    const body = ebnf
      .replace(/\(\*[\s\S]*?\*\)/g, ' ')
      .replace(/'[^']*'|"[^"]*"/g, ' ')
      .replace(/\?[^?]*\?/g, ' ');
    const used = new Set([...body.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\b/g)].map((m) => m[1]!));
    expect([...used].filter((u) => !defined.has(u))).toEqual([]);
  });

  it('syntax diagrams can be generated from the parser', () => {
    const html = createSyntaxDiagramsCode(serializedGrammar());
    expect(html).toContain('"name": "program"');
  });
});
