// docs/ARCHITECTURE.md is kept true by these checks: its table of diagnostic codes lists exactly
// the codes the source uses, and every repository path it names exists.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = readFileSync(`${ROOT}docs/ARCHITECTURE.md`, 'utf8');

function sourceFiles(): string[] {
  return (readdirSync(`${ROOT}src`, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `${ROOT}src/${f}`);
}

/**
 * Codes as the source writes them: string literals (`error('E_SYNTAX', ...)`, `fail('E_...')`,
 * `const code = ... 'E_UNKNOWN_STRUCT'`), in any quotes.
 */
const CODE_LITERAL = /['"`]([EW]_[A-Z][A-Z0-9_]*)['"`]/g;

function sourceCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of sourceFiles()) {
    for (const m of readFileSync(file, 'utf8').matchAll(CODE_LITERAL)) codes.add(m[1]!);
  }
  return codes;
}

/** The codes in the first column of the doc's "Diagnostic codes" table. */
function documentedCodes(): string[] {
  const section = DOC.split(/^## Diagnostic codes$/m)[1] ?? '';
  return [...section.matchAll(/^\| `([EW]_[A-Z0-9_]+)` \| (.*) \|$/gm)].map((m) => {
    expect(m[2]!.trim(), `meaning of ${m[1]}`).not.toBe('');
    return m[1]!;
  });
}

describe('docs/ARCHITECTURE.md', () => {
  it('lists exactly the diagnostic codes the source uses', () => {
    const documented = documentedCodes();
    expect(new Set(documented).size, 'a code listed twice').toBe(documented.length);
    expect([...documented].sort()).toEqual([...sourceCodes()].sort());
  });

  it('finds every code: none is built from pieces the scan cannot see', () => {
    for (const file of sourceFiles()) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/['"`][EW]_[A-Z0-9_]*\$\{/);
    }
    // The scan sees the codes of every stage that reports them.
    const codes = sourceCodes();
    for (const code of ['E_SYNTAX', 'E_PREPROCESSOR', 'E_UNKNOWN_TRACEPOINT', 'E_VERIFIER', 'W_READ_FAILED']) {
      expect(codes).toContain(code);
    }
  });

  it('names only paths that exist', () => {
    const paths = [...DOC.matchAll(/`((?:src|test|bin|scripts|docs|grammar|examples|bench)\/[^`\s*]+)`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((p) => !existsSync(ROOT + p))).toEqual([]);
  });

  it('is where README.md points, and nothing points outside the repository', () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    expect(readme).toContain('(docs/ARCHITECTURE.md)');
    const outside = ['..', 'shared'].join('/');
    expect(readme).not.toContain(outside);
    expect(DOC).not.toContain(outside);
  });
});
