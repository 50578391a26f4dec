import { describe, expect, it } from 'vitest';
import { destinationRefusal, parseAllowedHosts, restrictedKindOf, STRICT_POLICY } from './address-policy.ts';

describe('restrictedKindOf', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local or metadata'],
    ['169.254.0.1', 'link-local or metadata'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'private'],
    ['fc00::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local or metadata'],
    ['::ffff:10.1.2.3', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local or metadata'],
    ['::127.0.0.1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['8.8.8.8', null],
    ['172.32.0.1', null],
    ['11.0.0.1', null],
    ['93.184.216.34', null],
    ['2606:4700::1111', null],
    ['::ffff:8.8.8.8', null],
    ['example.com', 'not an address'],
  ])('%s → %s', (address, kind) => {
    expect(restrictedKindOf(address)).toBe(kind);
  });
});

describe('destinationRefusal', () => {
  it('refuses restricted addresses by default, naming the kind', () => {
    expect(destinationRefusal('localhost', '127.0.0.1', STRICT_POLICY)).toMatch(/loopback/);
    expect(destinationRefusal('169.254.169.254', '169.254.169.254', STRICT_POLICY)).toMatch(/metadata/);
    expect(destinationRefusal('[::1]', '::1', STRICT_POLICY)).toMatch(/loopback/);
    expect(destinationRefusal('internal.example', '10.1.2.3', STRICT_POLICY)).toMatch(/private/);
    expect(destinationRefusal('example.com', '93.184.216.34', STRICT_POLICY)).toBeNull();
  });

  it('lets the operator allow host names, addresses and ranges', () => {
    const policy = parseAllowedHosts(' receiver.test , 127.0.0.1, 10.0.0.0/8, [::1], fd00::/8');
    expect(destinationRefusal('receiver.test', '127.0.0.5', policy)).toBeNull();
    expect(destinationRefusal('RECEIVER.test', '192.168.0.1', policy)).toBeNull();
    expect(destinationRefusal('localhost', '127.0.0.1', policy)).toBeNull();
    expect(destinationRefusal('x', '::ffff:127.0.0.1', policy)).toBeNull();
    expect(destinationRefusal('localhost', '127.0.0.2', policy)).toMatch(/loopback/);
    expect(destinationRefusal('a', '10.200.0.1', policy)).toBeNull();
    expect(destinationRefusal('a', '::1', policy)).toBeNull();
    expect(destinationRefusal('a', 'fd12::1', policy)).toBeNull();
    expect(destinationRefusal('a', '169.254.169.254', policy)).toMatch(/metadata/);
    expect(destinationRefusal('other.test', '127.0.0.5', policy)).toMatch(/loopback/);
  });

  it.each(['10.0.0.0/33', 'nonsense/8', '10.0.0.0/x', '::/129'])(
    'refuses the malformed range %s',
    (entry) => {
      expect(() => parseAllowedHosts(entry)).toThrow(/CIDR/);
    },
  );
});
