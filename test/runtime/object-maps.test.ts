// The maps of a compiled object are libbpf's to create: loadObject() resizes those only a run
// can size (the ring buffer) before creating them, and mapFd() hands out each one by its symbol,
// as the kernel names it. (Root: loads into the real kernel.)
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile/compile.js';
import { native } from '../../src/runtime/native.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

/** A field of a map fd's /proc/self/fdinfo entry. */
function fdinfo(fd: number, field: string): string | undefined {
  return new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))?.[1];
}

describe('maps of a loaded object', () => {
  const result = compile({ source: 'BEGIN { @averylongmapnameforthetest[1] = count(); printf("x\\n"); }' }, new FakeKernel());
  const types = Object.fromEntries(result.generated!.programs.map((p) => [p.name, p.type]));

  it('creates every map the object declares, with its size, and gives their fds by name', () => {
    const obj = native().loadObject(result.object!, types);
    try {
      const events = obj.mapFd('tl_events');
      expect(fdinfo(events, 'map_type')).toBe('27'); // BPF_MAP_TYPE_RINGBUF
      expect(fdinfo(events, 'max_entries')).toBe(String(256 << 10));
      // A global variable is an array map of one value, found by its section's name.
      const counters = obj.mapFd('.bss.tl_counters');
      expect([fdinfo(counters, 'map_type'), fdinfo(counters, 'key_size'), fdinfo(counters, 'value_size'), fdinfo(counters, 'max_entries')])
        .toEqual(['2', '4', '16', '1']);
      // The symbol is the whole name; the kernel keeps 15 characters of it.
      const symbol = result.generated!.mapSymbols.get('@averylongmapnameforthetest')!;
      expect(symbol).toBe('tl_averylongmapnameforthetest');
      expect(obj.mapFd(symbol)).toBeGreaterThan(0);
      expect(obj.mapFd('.bss.tl_readfail')).toBe(-1); // no read sites, no global
    } finally {
      obj.close();
    }
  });

  it('resizes maps before creating them, and refuses a map the object does not have', () => {
    const obj = native().loadObject(result.object!, types, { maxEntries: { tl_events: 1 << 16 } });
    try {
      expect(fdinfo(obj.mapFd('tl_events'), 'max_entries')).toBe(String(1 << 16));
    } finally {
      obj.close();
    }
    expect(() => native().loadObject(result.object!, types, { maxEntries: { tl_nothing: 1 } })).toThrow(/no map 'tl_nothing'/);
  });

  /** This process's fdinfo entries (the directory's own fd is gone once listed). */
  const fdinfos = () => readdirSync('/proc/self/fdinfo').flatMap((fd) => {
    try {
      return [readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1')];
    } catch {
      return [];
    }
  });

  /** The map id of this process's ring buffer of `bytes` (fdinfo), once a thread has made it. */
  async function ringMadeElsewhere(bytes: number): Promise<string> {
    for (;;) {
      for (const info of fdinfos()) {
        if (/^map_type:\s*27$/m.test(info) && new RegExp(`^max_entries:\\s*${bytes}$`, 'm').test(info)) return /^map_id:\s*(\d+)/m.exec(info)![1]!;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('uses a ring made on another thread while compiling (ringBufferInBackground) when its size is the map\'s', async () => {
    const bytes = 1 << 21;
    const pending = native().ringBufferInBackground('tl_events', bytes);
    const id = await ringMadeElsewhere(bytes);
    const obj = native().loadObject(result.object!, types, { maxEntries: { tl_events: bytes }, premade: { tl_events: pending } });
    try {
      expect(fdinfo(obj.mapFd('tl_events'), 'map_id')).toBe(id);
      expect(fdinfo(obj.mapFd('tl_events'), 'max_entries')).toBe(String(bytes));
    } finally {
      obj.close();
    }
    // Of another size: libbpf makes the object's own.
    const other = native().ringBufferInBackground('tl_events', 1 << 22);
    const otherId = await ringMadeElsewhere(1 << 22);
    const own = native().loadObject(result.object!, types, { premade: { tl_events: other } });
    try {
      expect(fdinfo(own.mapFd('tl_events'), 'map_id')).not.toBe(otherId);
      expect(fdinfo(own.mapFd('tl_events'), 'max_entries')).toBe(String(256 << 10));
    } finally {
      own.close();
    }
    // Neither ring is left open by this process.
    expect(fdinfos().filter((info) => /^map_type:\s*27$/m.test(info))).toEqual([]);
  });
});
