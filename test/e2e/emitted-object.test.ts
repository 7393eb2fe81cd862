// The object `--emit-elf` writes is exactly what runs: its bytes are those compile() gives a run,
// and the file itself, loaded into the real kernel by a Session, runs and prints what the program
// prints (maps created by libbpf from the object's `.maps`, nothing made beforehand).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';
import { compile } from '../../src/compile/compile.js';
import { SystemKernel } from '../../src/kernel/index.js';
import { Session } from '../../src/runtime/session.js';
import { createFormatter } from '../../src/runtime/output/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-emitted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A map of each kind the runtime reads (scalar, keyed count, hist), an event, `elapsed` (a value
// the run writes into the object's tl_run map) and a tracepoint that fires.
const PROGRAM = `BEGIN { printf("begin %d\\n", elapsed < 10000000000); @scalar = 7; }
tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @calls = count(); @h = hist(5); }
interval:ms:100 { @ticks = count(); if (@ticks == 3) { exit(); } }`;

describe('--emit-elf', () => {
  it('writes the object a run loads, and that file runs as it is', async () => {
    const file = join(dir, 'prog.o');
    const params = [String(process.pid)];
    const emitted = runTracelet(['--emit-elf', file, '-e', PROGRAM, ...params]);
    expect([emitted.code, emitted.stderr, emitted.stdout]).toEqual([0, '', '']);
    const bytes = readFileSync(file);

    // The run compiles the same bytes (same options, nothing of the run in the object).
    const kernel = new SystemKernel();
    const compiled = compile({ source: PROGRAM, params }, kernel);
    expect(compiled.diagnostics).toEqual([]);
    expect(compiled.object!.equals(bytes)).toBe(true);

    // The file, loaded and run.
    let out = '';
    const session = new Session({
      program: compiled.program!, object: bytes, programs: compiled.generated!.programs,
      helperErrorSites: compiled.generated!.helperErrorSites, readSites: compiled.generated!.readSites,
      mapSymbols: compiled.generated!.mapSymbols,
    }, kernel, { formatter: createFormatter('text'), write: (text) => { out += text; } });
    session.load();
    session.attach();
    const running = session.run();
    for (let i = 0; i < 5; i++) process.ppid; // each read is a getppid(2) by this process
    expect(await running).toBe('exit');
    expect(out).toMatch(/^begin 1\n\n\n@calls: [1-9]\d*\n@h: \n\[4, 8\)\s+[1-9]\d* \|@+\|\n\n@scalar: 7\n@ticks: 3\n$/);
  });
});
