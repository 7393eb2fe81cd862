// The start-up snapshot's warm-up (src/cli/warm-up.ts): compileMethods calls each method of a
// class so that V8 compiles it, and lets none of them run: the snapshot would keep what they did.
import { describe, expect, it } from 'vitest';
import { compileMethods } from '../../src/cli/warm-up.js';
import { Session } from '../../src/runtime/session.js';
import { Run } from '../../src/run/run.js';

describe('compileMethods', () => {
  it('calls every method, getter and static, and each stops where it first touches this or an argument', () => {
    const reached: string[] = [];
    class Probe {
      static count = 0;
      constructor(readonly x: { a: number }) {
        reached.push(`ctor ${x.a}`);
      }
      get value() {
        return this.x.a;
      }
      method(y: { b: number }) {
        Probe.count++;
        return y.b;
      }
      async later(z: { c: number }) {
        return z.c;
      }
      static make(w: { d: number }) {
        return w.d;
      }
    }
    compileMethods([Probe]);
    expect(reached).toEqual([]);
    // The static counter ran: method's first statement touches neither this nor y.
    expect(Probe.count).toBe(1);
  });

  it('refuses a method (or constructor) that runs to its end without touching them', () => {
    class Quiet {
      constructor(readonly x: { a: number }) {
        this.x = { a: x.a };
      }
      tick() {
        return 1;
      }
    }
    expect(() => compileMethods([Quiet])).toThrow(/Quiet\.tick ran without touching/);
    class Bare {}
    expect(() => compileMethods([Bare])).toThrow(/new Bare\(\) ran without touching/);
  });

  it('compiles the Session and the Run without running any of their code', () => {
    expect(() => compileMethods([Session, Run])).not.toThrow();
  });
});
