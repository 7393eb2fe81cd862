// The maps of a compiled object are libbpf's to create: loadObject() resizes those only a run
// can size (the ring buffer) before creating them, and mapFd() hands out each one by its symbol,
// as the kernel names it. (Root: loads into the real kernel.)
import { readFileSync } from 'node:fs';
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
});
