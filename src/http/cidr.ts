import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses as 16 bytes: IPv4 is held in its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so an
 * IPv4 rule matches an IPv4 peer and the same peer seen through a dual-stack socket alike.
 */
export type IpBytes = Uint8Array;

export interface Cidr {
  readonly network: IpBytes;
  /** Prefix length over the 16-byte form (an IPv4 /8 is 104 here). */
  readonly bits: number;
  /** As configured, for messages. */
  readonly text: string;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Parses an IPv4 or IPv6 address (any textual form, an IPv6 zone ignored); undefined if it is none. */
export function parseIp(text: string): IpBytes | undefined {
  const address = text.trim();
  if (isIPv4(address)) return Uint8Array.from([...MAPPED_PREFIX, ...ipv4Octets(address)]);
  const unzoned = address.replace(/%.*$/, '');
  if (!isIPv6(unzoned)) return undefined;
  return ipv6Bytes(unzoned);
}

/** Parses `address/bits`, or a bare address as a single host. Host bits must be zero. */
export function parseCidr(text: string): Cidr | { error: string } {
  const trimmed = text.trim();
  const [addressText, bitsText, extra] = trimmed.split('/');
  const network = parseIp(addressText);
  if (!network || extra !== undefined) return { error: `${JSON.stringify(trimmed)} is not an IP address or CIDR` };
  const v4 = isIPv4(addressText.trim());
  const maxBits = v4 ? 32 : 128;
  const bits = bitsText === undefined ? maxBits : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!(bits >= 0 && bits <= maxBits)) return { error: `${JSON.stringify(trimmed)} has a prefix length outside 0–${maxBits}` };
  const cidr: Cidr = { network, bits: v4 ? bits + 96 : bits, text: trimmed };
  const networkOnly = masked(network, cidr.bits);
  if (networkOnly.some((byte, i) => byte !== network[i])) {
    return { error: `${JSON.stringify(trimmed)} has host bits set (did you mean ${formatIp(networkOnly)}/${bits}?)` };
  }
  return cidr;
}

export function cidrContains(cidr: Cidr, address: IpBytes): boolean {
  const whole = cidr.bits >> 3;
  for (let i = 0; i < whole; i++) if (cidr.network[i] !== address[i]) return false;
  const rest = cidr.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (cidr.network[whole] & mask) === (address[whole] & mask);
}

export function matchesAny(cidrs: readonly Cidr[], address: IpBytes): boolean {
  return cidrs.some((cidr) => cidrContains(cidr, address));
}

/** Canonical text: dotted IPv4 for IPv4 and IPv4-mapped addresses, compressed lower-case IPv6 otherwise. */
export function formatIp(address: IpBytes): string {
  if (MAPPED_PREFIX.every((byte, i) => address[i] === byte)) return Array.from(address.subarray(12)).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((address[i] << 8) | address[i + 1]);
  // The longest run of two or more zero groups becomes '::' (RFC 5952).
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) [bestStart, bestLength] = [start, end - start];
    start = end === start ? start + 1 : end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function ipv4Octets(address: string): number[] {
  return address.split('.').map(Number);
}

/** Expands a valid IPv6 text (checked by isIPv6) to 16 bytes, an embedded dotted IPv4 tail included. */
function ipv6Bytes(address: string): IpBytes {
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)];
      const [a, b, c, d] = ipv4Octets(group);
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const [head, tail] = address.split('::');
  const headGroups = toGroups(head);
  const tailGroups = tail === undefined ? [] : toGroups(tail);
  const groups = [...headGroups, ...new Array<number>(8 - headGroups.length - tailGroups.length).fill(0), ...tailGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

function masked(address: IpBytes, bits: number): IpBytes {
  const result = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    result[i] = address[i] & ((0xff << (8 - keep)) & 0xff);
  }
  return result;
}
