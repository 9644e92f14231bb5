import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';

/** A local server for download tests that counts the TCP connections and requests it receives. */
export interface TestServer {
  /** `127.0.0.1:<port>` */
  host: string;
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** Request paths received so far (HTTP servers only). */
  paths: string[];
  close(): Promise<void>;
}

function newState(): TestServer {
  return { host: '', port: 0, origin: '', connections: 0, paths: [], close: async () => undefined };
}

/** Starts an HTTP server on 127.0.0.1 (random port) answering with `handler`. */
export async function startHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse, server: TestServer) => void,
): Promise<TestServer> {
  const state = newState();
  const server = http.createServer((req, res) => {
    state.paths.push(req.url ?? '');
    handler(req, res, state);
  });
  return listen(server, state);
}

/** Starts a raw TCP server on 127.0.0.1 that calls `respond` with the socket once a request arrives. */
export async function startRawServer(respond: (socket: net.Socket) => void): Promise<TestServer> {
  const state = newState();
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => respond(socket));
  });
  return listen(server, state);
}

async function listen(server: http.Server | net.Server, state: TestServer): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.host = `127.0.0.1:${state.port}`;
  state.origin = `http://${state.host}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return state;
}
