import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isLoopbackAddress, isPrivateAddress } from './address-policy.js';

/** Raised (through the socket) when a host name resolves to an address downloads must not reach. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_ATTACHMENT_BLOCKED_ADDRESS';

  constructor(readonly hostname: string) {
    super(`${hostname} resolves to a private network address`);
    this.name = 'BlockedAddressError';
  }
}

/** The resolver {@link createGuardedLookup} wraps: `dns.lookup` with `all: true`. */
export type Resolver = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * Wraps a resolver into a lookup for `http.request` that refuses private, loopback and other non-public
 * addresses, checked on the addresses actually connected to (so a public name that resolves, or is rebound, to
 * 10.x or 169.254.169.254 is refused). Only the name `localhost` may resolve to loopback addresses, and then to
 * nothing else. The refusal is a {@link BlockedAddressError} emitted by the socket.
 */
export function createGuardedLookup(resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '');
        return;
      }
      const isLocalhost = hostname.toLowerCase() === 'localhost';
      const allowed = (address: string): boolean => (isLocalhost ? isLoopbackAddress(address) : !isPrivateAddress(address));
      if (addresses.length === 0 || !addresses.every((a) => allowed(a.address))) {
        callback(new BlockedAddressError(hostname), '');
        return;
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** {@link createGuardedLookup} over the system resolver (`dns.lookup`). */
export const guardedLookup: LookupFunction = createGuardedLookup((hostname, options, callback) => dnsLookup(hostname, options, callback));
