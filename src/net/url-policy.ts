import { isIP } from 'node:net';
import { UserError } from '../errors.js';
import { isLoopbackAddress, isPrivateAddress } from './address-policy.js';
import { shorten } from '../text.js';

/** Hosts that may be fetched over plain `http:` (so tests and local setups can use a local server). */
const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Longest URL accepted at all; Discord's attachment URLs are far shorter. */
export const MAX_URL_LENGTH = 2048;

/** An allowlist entry: a hostname (lower case, IPv6 in brackets) and a port, `''` meaning the scheme's default. */
export interface AllowedHost {
  hostname: string;
  port: string;
}

/**
 * A short, printable rendering of user- or server-supplied text for messages: control and formatting characters
 * become `?`, and anything past `max` characters is cut and marked with `…`.
 */
export function shortenForMessage(text: string, max = 80): string {
  return shorten(text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '?'), max);
}

/**
 * Parses the operator's allowlist. Entries are `host` or `host:port` (IPv6 as `[::1]` or `[::1]:8080`),
 * case-insensitive; internationalised names are matched in their punycode form. Wildcards are not supported: each
 * host is listed exactly. A malformed entry is a configuration bug and throws a TypeError.
 */
export function parseAllowedHosts(entries: readonly string[]): AllowedHost[] {
  if (!Array.isArray(entries)) throw new TypeError('Expected `allowedHosts` to be an array of host names');
  return entries.map((entry) => {
    const host = parseAllowedHost(String(entry));
    if (host === undefined) {
      throw new TypeError(
        'Expected `allowedHosts` entries like "cdn.discordapp.com" or "127.0.0.1:8080", ' +
          `got ${JSON.stringify(shortenForMessage(String(entry).trim()))}`,
      );
    }
    return host;
  });
}

/** One allowlist entry (see {@link parseAllowedHosts}), or `undefined` when it is not `host` or `host:port`. */
export function parseAllowedHost(entry: string): AllowedHost | undefined {
  const trimmed = entry.trim();
  const bracketed = !trimmed.startsWith('[') && (trimmed.match(/:/g)?.length ?? 0) > 1 ? `[${trimmed}]` : trimmed;
  let parsed: URL | undefined;
  try {
    if (!/[/@?#*\\\s]/.test(bracketed) && bracketed !== '') parsed = new URL(`http://${bracketed}`);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || parsed.pathname !== '/' || parsed.hostname === '') return undefined;
  // The URL parser drops ":80" for http; keep it explicit so it only matches port 80.
  const port = parsed.port === '' && /:0*80$/.test(bracketed) ? '80' : parsed.port;
  return { hostname: parsed.hostname.toLowerCase(), port };
}

/** An allowlist entry written back as `host` or `host:port`, as the configuration keeps it. */
export function formatAllowedHost(host: AllowedHost): string {
  return host.port === '' ? host.hostname : `${host.hostname}:${host.port}`;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/** True when `url`'s host and port are on the allowlist (an entry without a port matches the default port only). */
export function isHostAllowed(url: URL, allowed: readonly AllowedHost[]): boolean {
  const hostname = url.hostname.toLowerCase();
  const port = url.port === '' ? defaultPort(url.protocol) : url.port;
  return allowed.some(
    (entry) => entry.hostname === hostname && (entry.port === '' ? port === defaultPort(url.protocol) : entry.port === port),
  );
}

function invalidUrl(reason: string): UserError {
  return new UserError('attachment.invalidUrl', `That link cannot be downloaded: ${reason}.`);
}

/** Bare IP literal of a URL hostname (brackets of IPv6 removed), or undefined for a name. */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return isIP(bare) === 0 ? undefined : bare;
}

/** True for `localhost`, `127.0.0.1` and `[::1]`, the only hosts reachable over plain http. */
export function isLoopbackHostname(hostname: string): boolean {
  return LOOPBACK_HOSTNAMES.has(hostname.toLowerCase());
}

/**
 * Checks a URL before any connection is made, and returns it parsed:
 * - `attachment.invalidUrl`: unparseable, longer than {@link MAX_URL_LENGTH}, with user info (`user:pass@`),
 *   not `https:` (plain `http:` only for `localhost`, `127.0.0.1`, `[::1]`);
 * - `attachment.hostNotAllowed`: the host (with its port when not the default) is not on the allowlist, or it is
 *   an IP literal of a private/reserved network (other than the loopback hosts above), even if listed.
 * Messages show the offending URL or host shortened, never in full.
 */
export function checkAttachmentUrl(rawUrl: string | URL, allowed: readonly AllowedHost[]): URL {
  const text = String(rawUrl);
  if (text.length > MAX_URL_LENGTH) throw invalidUrl(`the link is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidUrl(`"${shortenForMessage(text, 60)}" is not a web address`);
  }
  if (url.username !== '' || url.password !== '') throw invalidUrl('links with a user name or password are not accepted');
  const loopback = isLoopbackHostname(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw invalidUrl(`only https:// links are accepted, not ${shortenForMessage(url.protocol, 12)}//`);
  }
  const host = shortenForMessage(url.host, 64);
  if (!isHostAllowed(url, allowed)) {
    throw new UserError(
      'attachment.hostNotAllowed',
      `I only download attachments from the hosts this bot allows (such as Discord's CDN), and ${host} is not one of them.`,
    );
  }
  const literal = ipLiteral(url.hostname);
  if (literal !== undefined && isPrivateAddress(literal) && !(loopback && isLoopbackAddress(literal))) {
    throw new UserError('attachment.hostNotAllowed', `${host} is a private network address; I do not download from there.`);
  }
  return url;
}
