import { isIPv4, isIPv6 } from 'node:net';

/** IPv4 ranges no attachment download may reach: private, loopback, link-local (cloud metadata), CGNAT, reserved. */
const BLOCKED_IPV4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast
];

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function inIpv4Range(value: number, [base, bits]: readonly [string, number]): boolean {
  const size = 2 ** (32 - bits);
  const start = ipv4ToNumber(base);
  return value >= start && value < start + size;
}

/** The eight 16-bit groups of an IPv6 address (zone id ignored, embedded dotted quad allowed). */
export function parseIpv6(address: string): number[] | undefined {
  const text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!isIPv6(text)) return undefined;
  let head = text;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const v4 = ipv4ToNumber(dotted[1]!);
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
    head = text.slice(0, -dotted[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const parseGroups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [left, right] = head.includes('::') ? (head.split('::') as [string, string]) : [head, undefined];
  const leftGroups = parseGroups(left);
  const rightGroups = [...(right === undefined ? [] : parseGroups(right)), ...tail];
  if (right === undefined) return [...leftGroups, ...tail];
  const zeros = 8 - leftGroups.length - rightGroups.length;
  return [...leftGroups, ...new Array<number>(zeros).fill(0), ...rightGroups];
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackAddress(address: string): boolean {
  if (isIPv4(address)) return inIpv4Range(ipv4ToNumber(address), ['127.0.0.0', 8]);
  const groups = parseIpv6(address);
  if (groups === undefined) return false;
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return true;
  const mapped = embeddedIpv4(groups);
  return mapped !== undefined && inIpv4Range(mapped, ['127.0.0.0', 8]);
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible, NAT64 (64:ff9b::/96) or 6to4 address. */
function embeddedIpv4(groups: number[]): number | undefined {
  const low = groups[6]! * 65536 + groups[7]!;
  if (groups.slice(0, 5).every((g) => g === 0) && (groups[5] === 0xffff || groups[5] === 0)) return low;
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return low;
  if (groups[0] === 0x2002) return groups[1]! * 65536 + groups[2]!;
  return undefined;
}

/**
 * True when `address` (an IP literal) is not a public unicast address: private, loopback, link-local, unique
 * local, multicast, documentation, reserved, or an IPv6 address embedding such an IPv4 address. Attachment
 * downloads must never connect there (server-side request forgery). Non-IP strings return false.
 */
export function isPrivateAddress(address: string): boolean {
  if (isIPv4(address)) {
    const value = ipv4ToNumber(address);
    return BLOCKED_IPV4.some((range) => inIpv4Range(value, range));
  }
  const groups = parseIpv6(address);
  if (groups === undefined) return false;
  const first = groups[0]!;
  if (groups.every((g) => g === 0)) return true; // ::
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return true; // ::1
  const mapped = embeddedIpv4(groups);
  if (mapped !== undefined) return BLOCKED_IPV4.some((range) => inIpv4Range(mapped, range));
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0) return true; // link-local, site-local
  if ((first & 0xff00) === 0xff00) return true; // multicast
  if (first === 0x2001 && groups[1]! < 0x0200) return true; // 2001::/23 IETF protocol assignments (Teredo, ...)
  if (first === 0x2001 && groups[1] === 0x0db8) return true; // documentation
  if (first === 0x0100 && groups.slice(1, 4).every((g) => g === 0)) return true; // discard-only 100::/64
  return first < 0x2000 || first >= 0x4000; // outside 2000::/3, the global unicast space
}
