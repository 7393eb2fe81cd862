// Comparison rules for bpftrace output (see test/fixtures/bpftrace-0.17/README.md): bpftrace sorts
// map entries by value, and the order of entries with equal values is not fixed, so runs of
// equal-valued entries are compared as sets.

/** Text: sorts each run of consecutive one-line entries `@map[key]: value` of one map with one value. */
export function normalizeText(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let run: string[] = [];
  let runId = '';
  const flush = () => {
    out.push(...run.sort());
    run = [];
    runId = '';
  };
  for (const line of lines) {
    const m = /^(@[A-Za-z0-9_]*)\[.*\]: (.*)$/.exec(line);
    const id = m ? `${m[1]}\0${m[2]}` : '';
    if (!m || id !== runId) flush();
    if (m) {
      run.push(line);
      runId = id;
    } else out.push(line);
  }
  flush();
  return out.join('\n');
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** JSON: every line parsed; map objects become [key, value] lists with equal-valued runs sorted by key. */
export function normalizeJson(text: string): unknown[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((line) => {
    let v: Json;
    try {
      v = JSON.parse(line) as Json;
    } catch {
      return { unparsed: line };
    }
    if (v && typeof v === 'object' && !Array.isArray(v) && (v.type === 'map' || v.type === 'hist' || v.type === 'stats')) {
      const data = v.data as { [k: string]: Json };
      const name = Object.keys(data)[0]!;
      const body = data[name]!;
      if (body && typeof body === 'object' && !Array.isArray(body)) {
        const entries = Object.entries(body);
        const sorted: [string, Json][] = [];
        for (let i = 0; i < entries.length;) {
          let j = i;
          const same = JSON.stringify(entries[i]![1]);
          while (j < entries.length && JSON.stringify(entries[j]![1]) === same) j++;
          sorted.push(...entries.slice(i, j).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
          i = j;
        }
        return { type: v.type, name, entries: sorted };
      }
    }
    return v;
  });
}
