// Property tests: generated valid programs parse cleanly, and no input whatsoever makes the
// front end (parser and type checker) throw. Time-bounded (fast-check stops early when the budget is spent; no timing asserts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

const kernel = new FakeKernel();

// ----- a small generator of valid programs

const name = fc.constantFrom('a', 'b', 'x1', 'start', 'cnt', '_t');
const variable = name.map((n) => `$${n}`);
const mapName = fc.constantFrom('@', '@a', '@start', '@hits');
const builtin = fc.constantFrom('pid', 'tid', 'comm', 'nsecs', 'arg0', 'arg3', 'retval', 'cpu', 'curtask', 'kstack', 'args');
const intLit = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String),
  fc.integer({ min: 0, max: 0xffff }).map((n) => `0x${n.toString(16)}`),
  fc.constantFrom('1_000', '1e3', '0755', '10u', '5ull', '0'),
);
const strLit = fc.constantFrom('"x"', '"%d\\n"', '"a\\tb"', '""', '"\\x41\\101"');

const { expr } = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    intLit,
    strLit,
    variable,
    builtin,
    mapName,
    fc.tuple(mapName, fc.array(tie('expr'), { minLength: 1, maxLength: 2 })).map(([m, ks]) => `${m}[${ks.join(', ')}]`),
    fc.tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^', '==', '!=', '<', '<=', '>', '>=', '&&', '||'), tie('expr')).map(
      ([l, op, r]) => `${l} ${op} ${r}`,
    ),
    fc.tuple(fc.constantFrom('-', '!', '~'), tie('expr')).map(([op, e]) => `${op}(${e})`),
    fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, a, b]) => `(${c}) ? (${a}) : (${b})`),
    tie('expr').map((e) => `(${e})`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(${a}, ${b})`),
    fc.tuple(fc.constantFrom('count', 'hist', 'str', 'printf', 'ntop', 'sum'), fc.array(tie('expr'), { maxLength: 3 })).map(
      ([f, as]) => `${f}(${as.join(', ')})`,
    ),
    fc.tuple(fc.constantFrom('uint32', 'int8', 'struct task_struct *', 'uint64'), tie('expr')).map(([t, e]) => `(${t})(${e})`),
    fc.tuple(variable, fc.constantFrom('->f', '.g', '[0]', '.0')).map(([v, p]) => `${v}${p}`),
  ),
}));

const { stmt } = fc.letrec((tie) => ({
  stmt: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(fc.oneof(variable, mapName), fc.constantFrom('=', '+=', '-=', '<<=', '|='), expr).map(([t, op, e]) => `${t} ${op} ${e};`),
    expr.map((e) => `${e};`),
    fc.tuple(fc.oneof(variable, mapName), fc.constantFrom('++', '--')).map(([t, op]) => `${t}${op};`),
    fc.tuple(expr, fc.array(tie('stmt'), { maxLength: 3 }), fc.option(fc.array(tie('stmt'), { maxLength: 2 }))).map(
      ([c, a, b]) => `if (${c}) { ${a.join(' ')} }${b ? ` else { ${b.join(' ')} }` : ''}`,
    ),
    fc.tuple(expr, fc.array(tie('stmt'), { maxLength: 3 })).map(([c, a]) => `while (${c}) { ${a.join(' ')} break; }`),
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.array(tie('stmt'), { maxLength: 2 })).map(([n, a]) => `unroll(${n}) { ${a.join(' ')} }`),
    fc.tuple(variable, mapName, fc.array(tie('stmt'), { maxLength: 2 })).map(([v, m, a]) => `for (${v} : ${m}) { ${a.join(' ')} }`),
    fc.constant('return;'),
    fc.constant(';'),
  ),
}));

const attachPoint = fc.constantFrom(
  'BEGIN', 'END', 'kprobe:vfs_read', 'kretprobe:vfs_*', 'tracepoint:syscalls:sys_enter_openat', 't:sched:sched_switch',
  'uprobe:/bin/bash:readline', 'uretprobe:/usr/lib/libc.so.6:malloc', 'usdt:/bin/x:p:n', 'profile:hz:99', 'interval:s:1',
  'software:cpu-clock:1000', 'hardware:cache-misses', 'kfunc:vfs_read', 'fexit:vfs_write', 'watchpoint:0x1000:8:rw',
  'iter:task', 'rawtracepoint:sched_switch', 'uprobe:/bin/x:cpp:"ns::f"', 'kprobe:f+0x10',
);

const probe = fc
  .tuple(fc.array(attachPoint, { minLength: 1, maxLength: 3 }), fc.option(expr), fc.array(stmt, { maxLength: 5 }), fc.constantFrom(',', ',\n', ', '))
  .map(([aps, pred, body, sep]) => `${aps.join(sep)}${pred !== null ? ` /${pred}/` : ''}\n{\n  ${body.join('\n  ')}\n}`);

// C definitions: nested and anonymous records, bit-fields, C declarators, typedefs, enums.
const cType = fc.constantFrom('int', 'unsigned long', 'u8', 'char', 'const char', 'struct task_struct', 'enum e');
const { declarator } = fc.letrec((tie) => ({
  declarator: fc.oneof(
    { depthSize: 'small' },
    name,
    tie('declarator').map((d) => `*${d}`),
    fc.tuple(tie('declarator'), fc.integer({ min: 1, max: 8 })).map(([d, n]) => `${d}[${n}]`),
    tie('declarator').map((d) => `(*${d})(int, char *, ...)`),
  ),
}));
const { record } = fc.letrec((tie) => ({
  field: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(cType, fc.array(declarator, { minLength: 1, maxLength: 2 })).map(([t, ds]) => `${t} ${ds.join(', ')};`),
    fc.tuple(fc.constantFrom('int', 'unsigned int', 'u64'), name, fc.integer({ min: 1, max: 31 })).map(([t, n, w]) => `${t} ${n} : ${w};`),
    tie('record').map((r) => `${r};`),
    fc.tuple(tie('record'), declarator).map(([r, d]) => `${r} ${d};`),
  ),
  record: fc
    .tuple(
      fc.constantFrom('struct', 'union'),
      fc.array(tie('field'), { minLength: 1, maxLength: 4 }),
      fc.constantFrom('', ' __attribute__((packed))', ' __attribute__((aligned(8)))'),
    )
    .map(([tag, fs, attribute]) => `${tag} { ${fs.join(' ')} }${attribute}`),
}));
const cDefinition = fc.oneof(
  fc.tuple(name, record).map(([n, r]) => r.replace(/^(struct|union) /, `$1 s_${n} `) + ';'),
  fc.tuple(fc.oneof(record, cType), declarator).map(([t, d]) => `typedef ${t} ${d};`),
  fc.array(name, { minLength: 1, maxLength: 3 }).map((ns) => `enum e { ${ns.map((n) => n.toUpperCase()).join(', ')} };`),
);

const program = fc
  .tuple(fc.array(cDefinition, { maxLength: 3 }), fc.array(probe, { minLength: 1, maxLength: 3 }))
  .map(([defs, ps]) => [...defs, ...ps].join('\n\n'));

// ----- mutations

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('{', '}', '/', '"', '(', ')', ';', ':', '/*', '$', '@', '\n', '#')) }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), at2: fc.nat() }),
);

function mutate(text: string, ms: { kind: string; at: number; len?: number; text?: string; at2?: number }[]): string {
  let t = text;
  for (const m of ms) {
    const i = t.length ? m.at % (t.length + 1) : 0;
    if (m.kind === 'delete') t = t.slice(0, i) + t.slice(i + (m.len ?? 1));
    else if (m.kind === 'insert') t = t.slice(0, i) + (m.text ?? '') + t.slice(i);
    else if (t.length > 1) {
      const a = Math.min(i, t.length - 1);
      const b = (m.at2 ?? 0) % t.length;
      const chars = [...t];
      [chars[a], chars[b]] = [chars[b]!, chars[a]!];
      t = chars.join('');
    }
  }
  return t;
}

/** The front end's contract on any input: no throw, every diagnostic inside the text. */
function wellFormed(text: string): void {
  const r = parse(text);
  expect(r.program.kind).toBe('Program');
  const checked = typecheck(r.program, kernel);
  for (const d of [...r.diagnostics, ...checked.diagnostics]) {
    expect(d.code).not.toBe('E_INTERNAL');
    expect(d.span.start).toBeGreaterThanOrEqual(0);
    expect(d.span.end).toBeGreaterThanOrEqual(d.span.start);
    expect(d.span.end).toBeLessThanOrEqual(text.length);
    expect(Number.isInteger(d.span.endColumn)).toBe(true);
  }
}

const BUDGET = { interruptAfterTimeLimit: 2000, markInterruptAsFailure: false } as const;

describe('property: generated programs', () => {
  it('valid programs parse with no diagnostics', () => {
    fc.assert(
      fc.property(program, (src) => {
        const r = parse(src);
        expect(r.diagnostics.map((d) => `${d.code} ${d.message} @${d.span.line}:${d.span.column}`)).toEqual([]);
        expect(r.program.probes.length).toBeGreaterThan(0);
        typecheck(r.program, kernel);
      }),
      { numRuns: 2000, ...BUDGET },
    );
  });

  it('mutated programs never make the parser throw', () => {
    fc.assert(
      fc.property(program, fc.array(mutation, { minLength: 1, maxLength: 6 }), (src, ms) => {
        wellFormed(mutate(src, ms));
      }),
      { numRuns: 3000, ...BUDGET },
    );
  });

  it('random strings never make the parser throw', () => {
    const alphabet = fc.constantFrom(...'{}()[]/*"\\$@#:;,.<>=!&|^~+-?%_ \n\tabckprobeBEGIN0123456789x'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: alphabet, maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 })), (s) => {
        wellFormed(s);
      }),
      { numRuns: 3000, ...BUDGET },
    );
  });
});
