// Every bpftrace tool installed on this machine must parse without a single diagnostic.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { at } from './helpers.js';

const DIR = '/usr/sbin';
function toolFiles(): string[] {
  try {
    return readdirSync(DIR).filter((f) => f.endsWith('.bt')).sort();
  } catch {
    return [];
  }
}
const files = toolFiles();

describe(`bpftrace tools in ${DIR}`, () => {
  if (files.length === 0) {
    it.skip(`no *.bt tools found in ${DIR}: install bpftrace to run this test`, () => {});
  } else {
    it(`finds the tools (${files.length})`, () => {
      expect(files.length).toBeGreaterThan(30);
    });
  }

  it.each(files)('%s parses with no diagnostics', (f) => {
    const text = readFileSync(join(DIR, f), 'utf8');
    const r = parse(text);
    expect(r.diagnostics.map((d) => `${d.code} ${at(d.span)} ${d.message}`)).toEqual([]);
    expect(r.program.probes.length).toBeGreaterThan(0);
    for (const p of r.program.probes) expect(p.attachPoints.length).toBeGreaterThan(0);
  });
});
