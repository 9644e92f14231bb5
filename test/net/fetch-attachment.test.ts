import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { fetchAttachment, MAX_REDIRECTS, type FetchAttachmentOptions } from '../../src/net/fetch-attachment.js';
import { startHttpServer, startRawServer, type TestServer } from './test-server.js';

const PNG_BYTES = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

let resolveChunkedClosed: (sent: number) => void = () => undefined;
/** Resolves with the bytes the `/chunked` handler had sent when its response closed. */
const chunkedClosed = new Promise<number>((resolve) => (resolveChunkedClosed = resolve));

/** Asserts a UserError of `identifier` with a bounded, human message. */
async function rejectsWith(promise: Promise<unknown>, identifier: string, messagePattern?: RegExp): Promise<string> {
  let message = '';
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
    assert.equal(error.identifier, identifier, error.message);
    assert.ok(error.message.length < 300, `message too long (${error.message.length})`);
    if (messagePattern) assert.match(error.message, messagePattern);
    message = error.message;
    return true;
  });
  return message;
}

describe('fetchAttachment', () => {
  let good: TestServer;
  let other: TestServer;
  let options: FetchAttachmentOptions;

  before(async () => {
    other = await startHttpServer((_req, res) => res.end('should never be reached'));
    good = await startHttpServer((req, res, self) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const hop = Number(url.searchParams.get('hop') ?? '0');
      switch (url.pathname) {
        case '/image.png':
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG_BYTES.length });
          res.end(PNG_BYTES);
          return;
        case '/chain': // redirects `hop` more times, then serves the picture
          res.writeHead(302, { location: hop > 0 ? `/chain?hop=${hop - 1}` : `${self.origin}/image.png` });
          res.end();
          return;
        case '/to-other':
          res.writeHead(307, { location: `${other.origin}/image.png` });
          res.end();
          return;
        case '/to-metadata':
          res.writeHead(301, { location: 'https://169.254.169.254/latest/meta-data/' });
          res.end();
          return;
        case '/to-private':
          res.writeHead(308, { location: 'https://10.0.0.5/secret' });
          res.end();
          return;
        case '/to-http':
          res.writeHead(302, { location: 'http://cdn.discordapp.com/attachments/1/2/a.png' });
          res.end();
          return;
        case '/to-ftp':
          res.writeHead(302, { location: 'ftp://127.0.0.1/file' });
          res.end();
          return;
        case '/huge-declared':
          res.writeHead(200, { 'content-length': 50 * 1024 * 1024 });
          res.write(Buffer.alloc(1024));
          return; // never finishes: the client must give up on the header alone
        case '/chunked': {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          let sent = 0;
          const pump = (): void => {
            while (sent < 8 * 1024 * 1024 && !res.destroyed) {
              sent += 64 * 1024;
              if (!res.write(Buffer.alloc(64 * 1024, 1))) {
                res.once('drain', pump);
                return;
              }
            }
            res.end();
          };
          res.on('close', () => resolveChunkedClosed(sent));
          pump();
          return;
        }
        case '/stall-body':
          res.writeHead(200, { 'content-length': 100 });
          res.write(Buffer.alloc(10));
          return;
        case '/stall-head':
          return;
        case '/missing':
          res.writeHead(404, 'Custom <b>hostile</b> reason that goes on and on');
          res.end('not found');
          return;
        case '/error':
          res.writeHead(500);
          res.end();
          return;
        default:
          res.writeHead(400);
          res.end();
      }
    });
    options = { allowedHosts: [good.host, 'cdn.discordapp.com', '169.254.169.254', '10.0.0.5'], maxBytes: 64 * 1024, timeoutMs: 5000 };
  });

  after(async () => {
    await good.close();
    await other.close();
  });

  it('downloads from an allowed host', async () => {
    const result = await fetchAttachment(`${good.origin}/image.png`, options);
    assert.ok(Buffer.from(result.bytes).equals(PNG_BYTES));
    assert.equal(result.contentType, 'image/png');
  });

  it('matches hosts case-insensitively and accepts localhost over http', async () => {
    const result = await fetchAttachment(`http://LOCALHOST:${good.port}/image.png`, {
      ...options,
      allowedHosts: [`LocalHost:${good.port}`],
    });
    assert.equal(result.bytes.length, PNG_BYTES.length);
  });

  it('refuses a host that is not allowed without connecting to it', async () => {
    const before = other.connections;
    await rejectsWith(
      fetchAttachment(`${other.origin}/image.png`, options),
      'attachment.hostNotAllowed',
      new RegExp(other.host.replace(/\./g, '\\.')),
    );
    // the same host on the allowlist without the port does not match either
    await rejectsWith(
      fetchAttachment(`${other.origin}/image.png`, { ...options, allowedHosts: ['127.0.0.1'] }),
      'attachment.hostNotAllowed',
    );
    assert.equal(other.connections, before);
  });

  it(`follows up to ${MAX_REDIRECTS} redirects, re-checking each target`, async () => {
    const result = await fetchAttachment(`${good.origin}/chain?hop=${MAX_REDIRECTS - 1}`, options);
    assert.ok(Buffer.from(result.bytes).equals(PNG_BYTES));
    await rejectsWith(fetchAttachment(`${good.origin}/chain?hop=${MAX_REDIRECTS}`, options), 'attachment.tooManyRedirects');
  });

  it('refuses a redirect to a host that is not allowed, without connecting to it', async () => {
    const before = other.connections;
    await rejectsWith(fetchAttachment(`${good.origin}/to-other`, options), 'attachment.hostNotAllowed');
    assert.equal(other.connections, before);
  });

  it('refuses redirects to private addresses even when listed, and to other schemes', async () => {
    await rejectsWith(fetchAttachment(`${good.origin}/to-metadata`, options), 'attachment.hostNotAllowed', /private network/);
    await rejectsWith(fetchAttachment(`${good.origin}/to-private`, options), 'attachment.hostNotAllowed', /private network/);
    await rejectsWith(fetchAttachment(`${good.origin}/to-http`, options), 'attachment.invalidUrl', /https/);
    await rejectsWith(fetchAttachment(`${good.origin}/to-ftp`, options), 'attachment.invalidUrl');
  });

  it('refuses a Content-Length above maxBytes before reading the body', async () => {
    await rejectsWith(fetchAttachment(`${good.origin}/huge-declared`, options), 'attachment.tooLarge', /larger than 64\.0 KiB,/);
  });

  it('cuts a chunked body off as soon as it passes maxBytes', async () => {
    await rejectsWith(fetchAttachment(`${good.origin}/chunked`, options), 'attachment.tooLarge');
    // the server noticed the client leave long before its 8 MB were sent
    const sent = await chunkedClosed;
    assert.ok(sent < 8 * 1024 * 1024, `server sent ${sent} bytes`);
  });

  it('takes exactly the declared length when a server sends more than its Content-Length says', async () => {
    const liar = await startRawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\n');
      socket.end(Buffer.alloc(200 * 1024, 7));
    });
    try {
      const result = await fetchAttachment(`${liar.origin}/x`, { ...options, allowedHosts: [liar.host] });
      assert.equal(result.bytes.length, 50);
    } finally {
      await liar.close();
    }
  });

  it('refuses a body cut short of its Content-Length instead of returning it truncated', async () => {
    const liar = await startRawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n');
      socket.end(Buffer.alloc(100, 7));
    });
    try {
      await rejectsWith(
        fetchAttachment(`${liar.origin}/x`, { ...options, allowedHosts: [liar.host] }),
        'attachment.network',
        /interrupted/,
      );
    } finally {
      await liar.close();
    }
  });

  it('refuses a body without Content-Length that grows past maxBytes (connection close framing)', async () => {
    const flood = await startRawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n');
      socket.end(Buffer.alloc(512 * 1024, 7));
    });
    try {
      await rejectsWith(fetchAttachment(`${flood.origin}/x`, { ...options, allowedHosts: [flood.host] }), 'attachment.tooLarge');
    } finally {
      await flood.close();
    }
  });

  it('gives up on a server that stalls, before or during the body', async () => {
    await rejectsWith(fetchAttachment(`${good.origin}/stall-head`, { ...options, timeoutMs: 300 }), 'attachment.timeout');
    await rejectsWith(fetchAttachment(`${good.origin}/stall-body`, { ...options, timeoutMs: 300 }), 'attachment.timeout');
    await rejectsWith(
      fetchAttachment(`${good.origin}/stall-body`, { ...options, stallTimeoutMs: 200 }),
      'attachment.timeout',
      /stopped sending/,
    );
  });

  it('refuses non-2xx answers without echoing the server’s reason text', async () => {
    const message = await rejectsWith(fetchAttachment(`${good.origin}/missing`, options), 'attachment.httpStatus', /404 Not Found/);
    assert.doesNotMatch(message, /hostile/);
    await rejectsWith(fetchAttachment(`${good.origin}/error`, options), 'attachment.httpStatus', /500/);
  });

  it('rejects with the abort reason when the caller aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    const pending = fetchAttachment(`${good.origin}/stall-body`, { ...options, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 100);
    await assert.rejects(pending, (error: unknown) => error === reason);
  });

  it('does not connect at all when the signal is already aborted', async () => {
    const before = good.connections;
    await assert.rejects(fetchAttachment(`${good.origin}/image.png`, { ...options, signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(good.connections, before);
  });

  it('refuses malformed, non-https and credential-carrying URLs with short messages', async () => {
    await rejectsWith(fetchAttachment('not a url', options), 'attachment.invalidUrl');
    await rejectsWith(fetchAttachment('http://cdn.discordapp.com/attachments/1/2/a.png', options), 'attachment.invalidUrl', /https/);
    await rejectsWith(fetchAttachment(`http://user:secret@${good.host}/image.png`, options), 'attachment.invalidUrl');
    await rejectsWith(fetchAttachment(`https://cdn.discordapp.com/${'a'.repeat(5000)}`, options), 'attachment.invalidUrl');
    const hostile = `https://${'x'.repeat(200)}.example/${'\u202e'.repeat(3)}`;
    const message = await rejectsWith(fetchAttachment(hostile, options), 'attachment.hostNotAllowed');
    assert.ok(!message.includes('x'.repeat(100)), message);
    await rejectsWith(fetchAttachment(`${'\u0000'.repeat(10)}${'y'.repeat(1500)}`, options), 'attachment.invalidUrl');
  });

  it('treats a misconfigured allowlist as a bug, not a user error', async () => {
    await assert.rejects(fetchAttachment(`${good.origin}/image.png`, { ...options, allowedHosts: ['*.discordapp.com'] }), TypeError);
    await assert.rejects(fetchAttachment(`${good.origin}/image.png`, { ...options, maxBytes: 0 }), RangeError);
  });
});
