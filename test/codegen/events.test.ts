// Event records (src/codegen/events.ts): printf's arguments are stored into the ring buffer
// record; `comm` is written there by its helper, not copied from the stack. (Generated IR on the
// fake kernel; no root needed.)
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { generate } from '../../src/codegen/codegen.js';
import { Helper } from '../../src/model/object-layout.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

function ir(text: string): string {
  const kernel = new FakeKernel();
  const checked = typecheck(parse(text).program, kernel);
  expect(checked.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return generate(checked.program!, kernel, {}).ir;
}

/** The IR lines of the helper calls to `id`. */
const calls = (text: string, id: number) => text.split('\n').filter((l) => l.includes(`inttoptr (i64 ${id} to`));

describe('event records', () => {
  it("has comm's helper write it into the printf record, after the record is reserved", () => {
    const text = ir('tracepoint:syscalls:sys_enter_openat { printf("%d %s %s\\n", pid, comm, comm); }');
    const reserve = text.indexOf(`inttoptr (i64 ${Helper.ringbufReserve} to`);
    const comms = calls(text, Helper.getCurrentComm);
    expect(comms.length).toBe(2);
    for (const c of comms) expect(text.indexOf(c)).toBeGreaterThan(reserve);
    // Nothing copied: no memcpy into the record.
    expect(text).not.toMatch(/call void @llvm\.memcpy/);
  });
});
