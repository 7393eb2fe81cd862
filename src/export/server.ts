// The HTTP side of --metrics: `GET /metrics` answers with the exposition made at that moment, in
// OpenMetrics when the scraper's Accept header asks for it, else Prometheus' text format.
import type * as Http from 'node:http';
import { createRequire } from 'node:module';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, wantsOpenMetrics } from './metrics.js';

export interface ListenAddress {
  /** Undefined: every address (IPv4 and IPv6). */
  readonly host?: string;
  readonly port: number;
}

/** `9100`, `:9100`, `127.0.0.1:9100`, `[::1]:9100`; undefined when it is none of these. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const m = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):)?(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? (m[2] || undefined);
  return host === undefined ? { port } : { host, port };
}

/**
 * Listens on `address` and answers scrapes with `render(openMetrics)`. Resolves once listening
 * (with the port, which `0` leaves to the system); rejects with the listen error (EADDRINUSE...).
 */
export function serveMetrics(address: ListenAddress, render: (openMetrics: boolean) => string,
  onError: (e: Error) => void): Promise<{ server: Http.Server; port: number }> {
  // Loaded when used: node:http cannot be loaded while Node 20 builds the start-up snapshot (and
  // the snapshot has no dynamic import()).
  const { createServer } = createRequire(import.meta.url)('node:http') as typeof Http;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('tracelet serves /metrics\n');
      return;
    }
    const om = wantsOpenMetrics(req.headers.accept);
    let body: string;
    try {
      body = render(om);
    } catch (e) {
      onError(e as Error);
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${(e as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': om ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      const bound = server.address();
      resolve({ server, port: typeof bound === 'object' && bound ? bound.port : address.port });
    });
  });
}
