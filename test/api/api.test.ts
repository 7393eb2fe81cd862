// The Node API (src/api) on the real kernel: compile() as data, trace() of real programs with
// typed events and maps, stop by AbortSignal leaving nothing in the kernel, errors as TraceletError.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compile, trace, TraceletError, type TraceEvent } from '../../src/api/index.js';
import { waitForNoPrograms } from '../helpers/run.js';

async function all(events: AsyncIterable<TraceEvent>): Promise<TraceEvent[]> {
  const out: TraceEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

function uprobeEvents(): string {
  try {
    return readFileSync('/sys/kernel/tracing/uprobe_events', 'utf8');
  } catch {
    return '';
  }
}

describe('compile()', () => {
  it('gives diagnostics as data without loading anything', () => {
    const r = compile('BEGIN { printf("%d\\n", 1); }\nBEGIN { @x = nosuch; }', { file: 'lint.bt', object: false });
    expect(r.ir).toBeUndefined();
    expect(r.object).toBeUndefined();
    const d = r.diagnostics[0]!;
    expect(d).toMatchObject({ code: 'E_UNKNOWN_IDENTIFIER', severity: 'error', file: 'lint.bt', line: 2, column: 14, message: "unknown identifier 'nosuch'" });
    expect(d.span).toMatchObject({ line: 2, column: 14, endLine: 2, endColumn: 20 });
    expect(d.hint).toBeTruthy();
    expect(d.rendered).toBe(`lint.bt:2:14: error: unknown identifier 'nosuch'\nBEGIN { @x = nosuch; }\n             ^~~~~~\nhint: ${d.hint}\n`);
  });

  it('gives the IR and the BPF object of a good program', () => {
    const r = compile('tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }');
    expect(r.diagnostics).toEqual([]);
    expect(r.ir).toContain('define');
    // An ELF file.
    expect(Buffer.from(r.object!.subarray(0, 4)).toString('latin1')).toBe('\x7fELF');
  });
});

describe('trace()', () => {
  it('yields typed events of a real program, and its maps at the end', async () => {
    const session = await trace(`
      tracepoint:syscalls:sys_enter_openat /pid == cpid/ {
        printf("open %s by %s\\n", str(args->filename), comm);
        @opens[comm] = count();
        @stack[kstack(3)] = count();
      }
      END { print((1, "x")); print(@opens); }`,
    { command: '/usr/bin/head -c 0 /etc/hostname' });
    const events = await all(session.events());
    const { reason, maps } = await session.done;
    expect(reason).toBe('child-exit');
    const opens = events.filter((e) => e.kind === 'printf' && e.args[0] === '/etc/hostname');
    expect(opens).toEqual([{ kind: 'printf', text: 'open /etc/hostname by head\n', format: 'open %s by %s\n', args: ['/etc/hostname', 'head'] }]);
    // Warnings (a read of a file name not yet paged in, say) come at the end: left out here.
    const output = events.filter((e) => e.kind !== 'warning');
    expect(output.at(-2)).toEqual({ kind: 'print', value: [1n, 'x'] });
    const printed = output.at(-1);
    expect(printed).toMatchObject({ kind: 'print', map: { name: '@opens', kind: 'count', keys: [{ name: 'comm', type: 'string[16]' }] } });
    const count = maps['@opens']!.entries.find((e) => e.key[0] === 'head')!.value;
    expect(count.kind === 'count' && count.value >= 2n).toBe(true); // ld.so's and head's own
    // Stacks as symbolized frames.
    const frames = maps['@stack']!.entries[0]!.key[0] as readonly { symbol?: string; module?: string; address: bigint; offset: bigint }[];
    expect(frames.length).toBeGreaterThan(0);
    expect(frames[0]).toMatchObject({ module: '[kernel.kallsyms]' });
    expect(typeof frames[0]!.symbol).toBe('string');
    expect(typeof frames[0]!.address).toBe('bigint');
    expect(await waitForNoPrograms()).toEqual([]);
  });

  it('reads typed maps while running; an AbortSignal stops it and nothing is left in the kernel', async () => {
    const controller = new AbortController();
    const session = await trace(`
      BEGIN { @c = count(); @s = stats(10); @s = stats(30); @h = hist(5); @h = hist(100); @l = lhist(15, 0, 100, 10);
              @pair[1, "a"] = 7; @big = 5000000000; }
      uprobe:/lib/x86_64-linux-gnu/libc.so.6:getpid { @g = count(); }
      interval:ms:50 { @ticks = count(); }`,
    { signal: controller.signal });
    const maps = await session.maps();
    expect(maps['@c']!.entries).toEqual([{ key: [], value: { kind: 'count', value: 1n } }]);
    expect(maps['@s']!.entries).toEqual([{ key: [], value: { kind: 'stats', count: 2n, sum: 40n, avg: 20n } }]);
    const used = (name: string) => {
      const v = maps[name]!.entries[0]!.value;
      return v.kind === 'hist' || v.kind === 'lhist' ? v.buckets.filter((b) => b.count > 0n) : [];
    };
    expect(used('@h')).toEqual([{ min: 4n, max: 8n, count: 1n }, { min: 64n, max: 128n, count: 1n }]);
    expect(used('@l')).toEqual([{ min: 10n, max: 20n, count: 1n }]);
    // Integer map values and keys are 64-bit (as in bpftrace): bigints.
    expect(maps['@pair']!.entries).toEqual([{ key: [1n, 'a'], value: { kind: 'scalar', value: 7n } }]);
    expect(maps['@big']!.entries).toEqual([{ key: [], value: { kind: 'scalar', value: 5000000000n } }]);

    const consumed = all(session.events());
    controller.abort();
    const { reason } = await session.done;
    expect(reason).toBe('stop');
    expect(await consumed).toEqual([]);
    expect(await session.stop()).toHaveProperty('@ticks');
    expect(await waitForNoPrograms()).toEqual([]);
    expect(uprobeEvents()).toBe('');
  });

  it('never makes the kernel side wait for a slow consumer: what it leaves behind is a lost event', async () => {
    const session = await trace('BEGIN { $i = 0; while ($i < 100) { printf("%d\\n", $i); $i++; } exit(); }', { maxQueuedEvents: 10 });
    await session.done; // nobody read anything until the run ended
    const events = await all(session.events());
    expect(events.filter((e) => e.kind === 'printf').map((e) => e.kind === 'printf' && e.text)).toEqual(
      Array.from({ length: 10 }, (_, i) => `${i}\n`),
    );
    expect(events.slice(10)).toEqual([{ kind: 'lost', count: 90 }, { kind: 'exit' }]);
  });

  it('keeps the order of typed events and those given as text (cat)', async () => {
    const session = await trace('BEGIN { printf("a\\n"); cat("/proc/sys/kernel/ostype"); printf("d\\n"); exit(); }');
    const events = await all(session.events());
    expect(events.map((e) => ('text' in e ? e.text : e.kind))).toEqual(['a\n', 'Linux\n', 'd\n', 'exit']);
  });

  it('gives failed reads and full maps as warning events, before exit', async () => {
    const session = await trace('config = { max_map_keys = 2 }\n'
      + 'BEGIN { printf("%s\\n", str(8)); $i = 0; while ($i < 5) { @full[$i] = 1; $i++; } exit(); }', { file: 'reads.bt' });
    const events = await all(session.events());
    const warnings = events.filter((e) => e.kind === 'warning');
    const read = warnings.find((e) => e.diagnostic?.code === 'W_READ_FAILED');
    expect(read).toMatchObject({ message: expect.stringContaining('failed here in 1 run'), diagnostic: { file: 'reads.bt', line: 2, column: 24 } });
    expect(read!.diagnostic!.rendered).toContain('reads.bt:2:24: warning:');
    expect(warnings.find((e) => e.diagnostic === undefined)).toMatchObject({ message: expect.stringContaining('map @full is full') });
    expect(events.at(-1)).toEqual({ kind: 'exit' });
  });

  it('gives exit(code)\'s code with the exit event', async () => {
    const session = await trace('BEGIN { exit(42); }');
    expect(await all(session.events())).toEqual([{ kind: 'exit', code: 42n }]);
  });

  it('gives errorf() and warnf() as typed events at the call, with the macro calls they came from', async () => {
    const session = await trace('macro check(x) { warnf("x is %d", x); }\nBEGIN { errorf("bad %s %d", comm, 7); check(3); exit(); }', { file: 'tool.bt' });
    const events = await all(session.events());
    const line = (s: { line: number; column: number; endColumn: number }) => `${s.line}:${s.column}-${s.endColumn}`;
    const [error, warning] = events;
    expect(error).toMatchObject({ kind: 'errorf', text: 'bad node 7', format: 'bad %s %d', args: ['node', 7n], file: 'tool.bt', line: 2, column: 9 });
    expect(warning).toMatchObject({ kind: 'warnf', text: 'x is 3', args: [3n], file: 'tool.bt', line: 1, column: 18 });
    if (warning?.kind !== 'warnf' || error?.kind !== 'errorf') throw new Error('not errorf, warnf');
    expect([line(error.span), error.expandedFrom]).toEqual(['2:9-37', undefined]);
    expect([line(warning.span), ...warning.expandedFrom!.map(line)]).toEqual(['1:18-37', '2:39-47']);
    expect(events.at(-1)).toEqual({ kind: 'exit' });
  });

  it('runs only the probes probeFilter matches; an invalid one is a TraceletError', async () => {
    const session = await trace('interval:ms:100 { printf("bad\\n"); exit(); } interval:ms:150 { printf("hit\\n"); exit(); }', { probeFilter: ':150$' });
    expect((await all(session.events())).map((e) => e.kind === 'printf' && e.text)).toEqual(['hit\n', false]);
    expect(() => compile('BEGIN { }', { probeFilter: '(' })).toThrow(TraceletError);
    const error = await trace('interval:ms:100 { }', { probeFilter: '(' }).catch((e: unknown) => e);
    expect((error as TraceletError).message).toBe("probeFilter '(': not a regular expression: Unterminated group "
      + "(it is a regular expression searched for in each probe's full name, e.g. --probe-filter 'sys_enter_(open|close)')");
    expect(compile('interval:ms:100 { }', { probeFilter: 'nosuch', object: false }).diagnostics.map((d) => d.code)).toEqual(['E_PROBE_FILTER']);
  });

  it('throws a TraceletError carrying the diagnostics of a bad program', async () => {
    const error = await trace('BEGIN { @x = nosuch; }', { file: 'bad.bt' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TraceletError);
    const { diagnostics, message } = error as TraceletError;
    expect(diagnostics[0]).toMatchObject({ code: 'E_UNKNOWN_IDENTIFIER', file: 'bad.bt', line: 1, column: 14 });
    expect(message).toContain("bad.bt:1:14: error: unknown identifier 'nosuch'");
    expect(await waitForNoPrograms()).toEqual([]);
  });

  it('says in one sentence that tracing needs root, before compiling', () => {
    // The built API (dist/), run by an unprivileged user.
    const api = fileURLToPath(new URL('../../dist/api/index.js', import.meta.url));
    // User nobody where it can reach this checkout (a clone in a 0700 temporary directory is out
    // of its reach); otherwise root without any capability, which is the same to the API's check.
    const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
    const reachable = spawnSync('setpriv', [...nobody, 'test', '-r', api]).status === 0;
    const unprivileged = reachable ? nobody : ['--inh-caps=-all', '--bounding-set=-all'];
    const r = spawnSync('setpriv', [...unprivileged, process.execPath, '--input-type=module', '-e',
      `import { trace } from '${api}'; trace('BEGIN { exit(); }').catch((e) => console.log(e.name + ': ' + e.message));`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('TraceletError: loading BPF programs needs root (or the CAP_BPF and CAP_PERFMON capabilities)\n');
  });

  it('throws a TraceletError for a probe that does not exist, before loading anything', async () => {
    const error = await trace('tracepoint:nosuch:thing { }').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TraceletError);
    expect((error as TraceletError).diagnostics.map((d) => d.code)).toContain('E_UNKNOWN_TRACEPOINT');
  });
});
