import { type Cidr, cidrContains, formatIp, matchesAny, parseCidr, parseIp } from '../../src/http/cidr';

const cidr = (text: string): Cidr => {
  const parsed = parseCidr(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
};
const ip = (text: string) => {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`${text} did not parse`);
  return parsed;
};
const contains = (rule: string, address: string) => cidrContains(cidr(rule), ip(address));

describe('parseIp and formatIp', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'], // uWS writes IPv6 peers in full
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['0000:0000:0000:0000:0000:ffff:0a01:0203', '10.1.2.3'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8::', '2001:db8::'],
    ['fe80::1%eth0', 'fe80::1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ])('%s → %s', (text, canonical) => {
    expect(formatIp(ip(text))).toBe(canonical);
  });

  it.each(['', 'localhost', '256.0.0.1', '1.2.3', '010.0.0.1', '1::2::3', '12345::1', '1.2.3.4:80', 'unknown'])('rejects %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});

describe('CIDR matching', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['172.16.0.0/12', '172.31.255.255', true],
    ['172.16.0.0/12', '172.32.0.0', false],
    ['192.168.1.128/25', '192.168.1.200', true],
    ['192.168.1.128/25', '192.168.1.127', false],
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['::1/128', '::1', true],
    ['::1/128', '::2', false],
    ['fc00::/7', 'fd12:3456::1', true],
    ['fc00::/7', 'fe00::1', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
  ])('%s contains %s: %s', (rule, address, expected) => {
    expect(contains(rule, address)).toBe(expected);
  });

  it('matches an IPv4-mapped IPv6 peer against its IPv4 rule, in every textual form', () => {
    expect(contains('10.0.0.0/8', '::ffff:10.1.2.3')).toBe(true);
    expect(contains('10.0.0.0/8', '0000:0000:0000:0000:0000:ffff:0a01:0203')).toBe(true);
    expect(contains('127.0.0.0/8', '::ffff:7f00:1')).toBe(true);
    expect(contains('10.0.0.0/8', '::ffff:11.1.2.3')).toBe(false);
  });

  it('keeps IPv4 rules and plain IPv6 addresses apart', () => {
    expect(contains('0.0.0.0/0', '::1')).toBe(false);
    expect(contains('0.0.0.0/0', '::a01:203')).toBe(false); // IPv4-compatible (deprecated) is not mapped
    expect(contains('::1/128', '127.0.0.1')).toBe(false);
  });

  it('matchesAny is false for an empty list', () => {
    expect(matchesAny([], ip('127.0.0.1'))).toBe(false);
    expect(matchesAny([cidr('10.0.0.0/8'), cidr('::1')], ip('::1'))).toBe(true);
  });
});

describe('parseCidr errors', () => {
  it.each([
    ['10.0.0.0/33', 'prefix length outside 0–32'],
    ['::/129', 'prefix length outside 0–128'],
    ['10.0.0.0/x', 'prefix length'],
    ['10.0.0.0/8/8', 'not an IP address or CIDR'],
    ['example.com/8', 'not an IP address or CIDR'],
    ['10.1.2.3/8', 'host bits set (did you mean 10.0.0.0/8?)'],
    ['2001:db8::1/32', 'host bits set (did you mean 2001:db8::/32?)'],
  ])('%s: %s', (text, message) => {
    const parsed = parseCidr(text);
    expect('error' in parsed && parsed.error).toContain(message);
  });
});
