// The CLI's side of the exporters: --metrics [HOST:]PORT serves the maps to Prometheus while the
// run lasts; -f pprof -o FILE writes the stack-keyed maps as a profile when it ends.
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { MapSpec, TypedProgram } from '../model/program.js';
import { hasStackKey, readMap, type MapReader } from '../runtime/map-values.js';
import { MetricsExporter } from '../export/metrics.js';
import { pprofProfile } from '../export/pprof.js';
import { parseListenAddress, serveMetrics } from '../export/server.js';

export interface MetricsServer {
  readonly port: number;
  /** Stops answering scrapes (the maps are about to be freed) and closes the socket. */
  close(): void;
}

/** TRACELET_METRICS_MAX_KEYS: the most keys of one map --metrics exports (default 2000). */
export function metricsMaxKeys(): number | undefined {
  const v = Number(process.env.TRACELET_METRICS_MAX_KEYS);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

/** Starts serving /metrics; returns an error sentence instead when it cannot listen. */
export async function startMetrics(addressText: string, program: TypedProgram, reader: MapReader,
  options: { sourceName: string; warn: (message: string) => void }): Promise<MetricsServer | string> {
  const address = parseListenAddress(addressText)!; // checked before the run
  const exporter = new MetricsExporter(program, reader, { ...options, maxKeys: metricsMaxKeys() });
  let live = true;
  let server: Server;
  let port: number;
  try {
    ({ server, port } = await serveMetrics(address, (om) => {
      if (!live) throw new Error('the run has ended');
      return exporter.render(om);
    }, (e) => options.warn(`--metrics: ${e.message}`)));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `--metrics ${addressText}: ${code === 'EADDRINUSE' ? 'address already in use' : code ?? (e as Error).message}`;
  }
  return {
    port,
    close: () => {
      live = false;
      server.close();
      server.closeAllConnections();
    },
  };
}

/** -f pprof: which maps go to the profile (and are not printed at exit). */
export function inProfile(spec: MapSpec): boolean {
  return hasStackKey(spec);
}

/** Writes the profile of the program's stack-keyed maps to `path`; returns an error sentence if it cannot. */
export function writeProfile(path: string, program: TypedProgram, reader: MapReader, startNanos: bigint): string | undefined {
  const maps = [...program.maps.values()].filter(inProfile).map((spec) => readMap(reader, spec));
  const durationNanos = BigInt(Date.now()) * 1_000_000n - startNanos;
  try {
    writeFileSync(path, pprofProfile(maps, { startNanos, durationNanos }));
    return undefined;
  } catch (e) {
    return `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}
