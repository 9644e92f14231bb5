import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { HealthReport } from './health.js';

/** What the endpoint serves. */
export interface HttpRoutes {
  /** Answers `GET /healthz`. */
  readonly health: () => HealthReport;
  /** Answers `GET /metrics`: Prometheus text and its content type. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>;
  /** Told about failures of the metrics route. */
  readonly logger?: Logger;
}

/** Options of {@link startHttpEndpoint}. */
export interface HttpEndpointOptions extends HttpRoutes {
  /** Address to listen on (config `http.host`, default `127.0.0.1`). */
  readonly host: string;
  /** Port; 0 picks a free one (config `http.port`). */
  readonly port: number;
}

/** A listening endpoint. */
export interface HttpEndpoint {
  /** Where it listens, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  readonly address: AddressInfo;
  /** Stops listening and ends open (keep-alive) connections. */
  close(): Promise<void>;
}

const allowedMethods = 'GET, HEAD';

/**
 * The request handler: `GET /healthz` (200 or 503 with JSON), `GET /metrics` (Prometheus text), 404 for any
 * other path, 405 for other methods on these two. `HEAD` is answered like `GET` without a body.
 */
export function createRequestHandler(routes: HttpRoutes): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const path = pathOf(request.url);
    if (path !== '/healthz' && path !== '/metrics') return send(response, 404, 'text/plain; charset=utf-8', 'Not found\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', allowedMethods);
      return send(response, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
    }
    if (path === '/healthz') {
      const report = routes.health();
      return send(response, report.healthy ? 200 : 503, 'application/json; charset=utf-8', JSON.stringify(report.body) + '\n');
    }
    routes.metrics().then(
      ({ contentType, body }) => send(response, 200, contentType, body),
      (error: unknown) => {
        routes.logger?.error({ err: error }, 'could not render the metrics');
        send(response, 500, 'text/plain; charset=utf-8', 'Could not render the metrics\n');
      },
    );
  };
}

/** Starts the HTTP endpoint; rejects with a `http.listen` UserError when the address cannot be used. */
export async function startHttpEndpoint(options: HttpEndpointOptions): Promise<HttpEndpoint> {
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, createRequestHandler(options));
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new UserError(
          'http.listen',
          `Cannot listen on ${options.host}:${options.port} for the HTTP endpoint (${error.code ?? error.message}). ` +
            'Set `http.port` / LATENTCORD_HTTP_PORT to a free port, or disable it with `http.enabled`.',
          { cause: error },
        ),
      );
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => options.logger?.error({ err: error }, 'http endpoint error'));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, address, close: () => closeServer(server) };
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(body);
}

async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
