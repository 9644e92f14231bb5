import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { isLoopbackAddress, isPrivateAddress, parseIpv6 } from '../../src/net/address-policy.js';
import { BlockedAddressError, createGuardedLookup } from '../../src/net/guarded-lookup.js';
import { checkAttachmentUrl, isHostAllowed, parseAllowedHosts, shortenForMessage } from '../../src/net/url-policy.js';

describe('isPrivateAddress', () => {
  const privateAddresses = [
    '0.0.0.0',
    '10.1.2.3',
    '100.64.0.1',
    '127.0.0.1',
    '127.9.9.9',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '192.0.2.7',
    '198.18.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '::ffff:10.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::a00:1',
    '2002:c0a8:101::1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1%eth0',
    'ff02::1',
    '2001:db8::1',
    '2001::1',
    '100::1',
    '[::1]',
  ];
  const publicAddresses = [
    '8.8.8.8',
    '1.1.1.1',
    '162.159.128.233',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::6810:84e5',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2a00:1450:4001:80b::200e',
  ];
  for (const address of privateAddresses) it(`${address} is private`, () => assert.equal(isPrivateAddress(address), true));
  for (const address of publicAddresses) it(`${address} is public`, () => assert.equal(isPrivateAddress(address), false));

  it('parses IPv6 forms', () => {
    assert.deepEqual(parseIpv6('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(parseIpv6('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    assert.deepEqual(parseIpv6('2001:db8:0:0:1:0:0:1'), [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]);
    assert.deepEqual(parseIpv6('fe80::1:2%lo'), [0xfe80, 0, 0, 0, 0, 0, 1, 2]);
    assert.equal(parseIpv6('example.com'), undefined);
  });

  it('recognises loopback addresses', () => {
    assert.deepEqual(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '10.0.0.1', '::2'].map(isLoopbackAddress), [
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});

describe('allowlist and URL checks', () => {
  const allowed = parseAllowedHosts([
    'cdn.discordapp.com',
    'Media.DiscordApp.net',
    '127.0.0.1:8080',
    '[::1]:9000',
    'example.org:443',
    'plain.example:80',
  ]);

  it('normalises entries', () => {
    assert.deepEqual(allowed, [
      { hostname: 'cdn.discordapp.com', port: '' },
      { hostname: 'media.discordapp.net', port: '' },
      { hostname: '127.0.0.1', port: '8080' },
      { hostname: '[::1]', port: '9000' },
      { hostname: 'example.org', port: '443' },
      { hostname: 'plain.example', port: '80' },
    ]);
  });

  it('matches host and port exactly, case-insensitively', () => {
    const cases: Array<[string, boolean]> = [
      ['https://cdn.discordapp.com/attachments/1/2/a.png', true],
      ['https://CDN.DISCORDAPP.COM/a.png', true],
      ['https://cdn.discordapp.com:443/a.png', true],
      ['https://cdn.discordapp.com:8443/a.png', false],
      ['https://evil.cdn.discordapp.com/a.png', false],
      ['https://cdn.discordapp.com.evil.example/a.png', false],
      ['http://127.0.0.1:8080/a.png', true],
      ['http://127.0.0.1:8081/a.png', false],
      ['http://[::1]:9000/a.png', true],
      ['https://example.org/a.png', true],
      ['https://plain.example/a.png', false],
      ['https://plain.example:80/a.png', true],
    ];
    for (const [url, expected] of cases) assert.equal(isHostAllowed(new URL(url), allowed), expected, url);
  });

  it('keeps a port written with leading zeros, also the scheme default', () => {
    assert.deepEqual(parseAllowedHosts(['plain.example:0080', 'cdn.example:08443']), [
      { hostname: 'plain.example', port: '80' },
      { hostname: 'cdn.example', port: '8443' },
    ]);
  });

  it('refuses wildcard and malformed entries', () => {
    for (const entry of ['*.discordapp.com', 'https://cdn.discordapp.com', 'cdn.discordapp.com/path', 'user@host', '', 'a b']) {
      assert.throws(() => parseAllowedHosts([entry]), TypeError, entry);
    }
  });

  it('checks scheme, credentials and private literals before anything else', () => {
    const verdict = (url: string): string => {
      try {
        checkAttachmentUrl(url, parseAllowedHosts(['cdn.discordapp.com', '10.0.0.1', '127.0.0.2', 'localhost:3000']));
        return 'ok';
      } catch (error) {
        assert.ok(isUserError(error));
        return error.identifier;
      }
    };
    assert.equal(verdict('https://cdn.discordapp.com/x.png'), 'ok');
    assert.equal(verdict('http://localhost:3000/x.png'), 'ok');
    assert.equal(verdict('http://cdn.discordapp.com/x.png'), 'attachment.invalidUrl');
    assert.equal(verdict('https://a:b@cdn.discordapp.com/x.png'), 'attachment.invalidUrl');
    assert.equal(verdict('file:///etc/passwd'), 'attachment.invalidUrl');
    assert.equal(verdict('javascript:alert(1)'), 'attachment.invalidUrl');
    assert.equal(verdict('https://10.0.0.1/x.png'), 'attachment.hostNotAllowed');
    assert.equal(verdict('https://127.0.0.2/x.png'), 'attachment.hostNotAllowed');
    assert.equal(verdict('https://0x7f.0.0.1/x.png'), 'attachment.hostNotAllowed');
  });

  it('shortens hostile text for messages', () => {
    assert.equal(shortenForMessage('a\u0000b\u202ec\nd'), 'a?b?c?d');
    const long = shortenForMessage('x'.repeat(500), 20);
    assert.equal([...long].length, 20);
    assert.ok(long.endsWith('…'));
  });
});

describe('guarded DNS lookup', () => {
  const fakeDns: Record<string, LookupAddress[]> = {
    'cdn.example': [{ address: '162.159.128.233', family: 4 }],
    'rebound.example': [
      { address: '162.159.128.233', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ],
    'metadata.example': [{ address: '169.254.169.254', family: 4 }],
    'loop.example': [{ address: '127.0.0.1', family: 4 }],
    localhost: [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ],
  };
  const lookup = createGuardedLookup((hostname, _options, callback) => callback(null, fakeDns[hostname] ?? []));

  function resolve(hostname: string, all: boolean): Promise<unknown> {
    return new Promise((ok, fail) =>
      lookup(hostname, { all }, (error, address, family) => (error ? fail(error) : ok(all ? address : [address, family]))),
    );
  }

  it('passes public addresses through, in both callback forms', async () => {
    assert.deepEqual(await resolve('cdn.example', false), ['162.159.128.233', 4]);
    assert.deepEqual(await resolve('cdn.example', true), fakeDns['cdn.example']);
  });

  it('refuses names that resolve to private, link-local or loopback addresses', async () => {
    for (const name of ['rebound.example', 'metadata.example', 'loop.example', 'nothing.example']) {
      await assert.rejects(resolve(name, true), BlockedAddressError, name);
    }
  });

  it('lets only localhost resolve to loopback', async () => {
    assert.deepEqual(await resolve('localhost', true), fakeDns['localhost']);
  });
});
