// Event records (src/codegen/events.ts): printf's arguments are stored into the ring buffer
// record; `comm` is written there by its helper, not copied from the stack. (Generated IR on the
// fake kernel; no root needed.)
import { describe, expect, it } from 'vitest';
import { Helper } from '../../src/model/object-layout.js';
import { calls, ir } from '../helpers/codegen.js';

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

  it('submits events waking the reader only if it had caught up, exit() always', () => {
    // bpf_ringbuf_submit's flags: 0 wakes the reader if it had read everything before the record
    // (an event after a quiet spell is printed at once), 2 (BPF_RB_FORCE_WAKEUP) always.
    const submits = (text: string) => calls(text, Helper.ringbufSubmit).map((c) => / i64 (\d+)\)(, !dbg !\d+)?$/.exec(c)?.[1]);
    expect(submits(ir('tracepoint:syscalls:sys_enter_openat { printf("%d\\n", pid); }'))).toEqual(['0']);
    expect(submits(ir('tracepoint:syscalls:sys_enter_openat { exit(); }'))).toEqual(['2']);
  });
});
