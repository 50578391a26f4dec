import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * Which destinations webhooks may reach. By default none of: loopback, private (RFC 1918, unique local),
 * link-local (with the cloud metadata address 169.254.169.254), carrier-grade NAT, unspecified,
 * multicast, reserved and documentation ranges. The operator's allow list
 * (`KEYFENCE_WEBHOOK_ALLOWED_HOSTS`) lets some through by host name, address or CIDR range.
 */
export interface AddressPolicy {
  /** Host names allowed whatever they resolve to (lower case). */
  readonly hosts: ReadonlySet<string>;
  /** Addresses and ranges allowed. */
  readonly addresses: BlockList;
}

const REFUSED_V4: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local or metadata'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const REFUSED_V6: readonly [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'documentation'],
  ['100::', 64, 'discard'],
];

/** The 8 groups of an IPv6 address (IPv4 tail included), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address.toLowerCase();
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4Tail !== undefined) {
    const parts = v4Tail.split('.').map(Number);
    const [a = 0, b = 0, c = 0, d = 0] = parts;
    text = `${text.slice(0, -v4Tail.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' || halves[0] === undefined ? [] : halves[0].split(':');
  const tail =
    halves.length === 2 ? (halves[1] === '' || halves[1] === undefined ? [] : halves[1].split(':')) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  return [...head, ...Array.from({ length: halves.length === 2 ? missing : 0 }, () => '0'), ...tail].map(
    (group) => Number.parseInt(group, 16),
  );
}

/** The IPv4 address an IPv6 address carries (IPv4-mapped, IPv4-compatible, NAT64), or null. */
function embeddedIpv4(address: string): string | null {
  const groups = ipv6Groups(address);
  if (groups === null) return null;
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const mapped = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff;
  const nat64 = g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0;
  // ::a.b.c.d (deprecated IPv4-compatible), but not :: and ::1
  const compatible = groups.slice(0, 6).every((group) => group === 0) && (g6 !== 0 || g7 > 1);
  if (!mapped && !nat64 && !compatible) return null;
  return [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff].join('.');
}

function refusedRanges(ranges: readonly [string, number, string][], type: 'ipv4' | 'ipv6') {
  return ranges.map(([network, prefix, kind]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, type);
    return { list, kind };
  });
}
const REFUSED = { ipv4: refusedRanges(REFUSED_V4, 'ipv4'), ipv6: refusedRanges(REFUSED_V6, 'ipv6') };

/**
 * What kind of non-public address this is (`loopback`, `private`, `link-local or metadata`, …), or null
 * for a public address. An IPv6 address carrying an IPv4 address is judged by the IPv4 address.
 */
export function restrictedKindOf(address: string): string | null {
  const version = isIP(address);
  if (version === 0) return 'not an address';
  if (version === 6) {
    const v4 = embeddedIpv4(address);
    if (v4 !== null) return restrictedKindOf(v4);
    return REFUSED.ipv6.find(({ list }) => list.check(address, 'ipv6'))?.kind ?? null;
  }
  return REFUSED.ipv4.find(({ list }) => list.check(address, 'ipv4'))?.kind ?? null;
}

/** Reads `KEYFENCE_WEBHOOK_ALLOWED_HOSTS`: comma-separated host names, addresses and CIDR ranges. */
export function parseAllowedHosts(text: string | undefined): AddressPolicy {
  const hosts = new Set<string>();
  const addresses = new BlockList();
  for (const raw of (text ?? '').split(',')) {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    if (entry === '') continue;
    const [network = '', prefix] = entry.split('/');
    const version = isIP(network);
    if (prefix !== undefined) {
      const bits = Number(prefix);
      if (version === 0 || !/^\d{1,3}$/.test(prefix) || bits > (version === 4 ? 32 : 128)) {
        throw new Error(`KEYFENCE_WEBHOOK_ALLOWED_HOSTS: ${raw.trim()} is not a CIDR range`);
      }
      addresses.addSubnet(network, bits, version === 4 ? 'ipv4' : 'ipv6');
    } else if (version !== 0) {
      addresses.addAddress(network, version === 4 ? 'ipv4' : 'ipv6');
    } else {
      hosts.add(entry);
    }
  }
  return { hosts, addresses };
}

/** The policy that allows nothing restricted. */
export const STRICT_POLICY: AddressPolicy = parseAllowedHosts('');

/**
 * Why a delivery to `hostname`, resolved to `address`, is refused; null when it may go. Checked for the
 * address the connection is then made to (after DNS resolution), so a name that resolves to a private
 * address is refused like the address itself.
 */
export function destinationRefusal(hostname: string, address: string, policy: AddressPolicy): string | null {
  if (policy.hosts.has(hostname.toLowerCase().replace(/^\[|\]$/g, ''))) return null;
  const kind = restrictedKindOf(address);
  if (kind === null) return null;
  const v4 = isIPv4(address) ? address : isIP(address) === 6 ? embeddedIpv4(address) : null;
  if (policy.addresses.check(address, isIPv4(address) ? 'ipv4' : 'ipv6')) return null;
  if (v4 !== null && v4 !== address && policy.addresses.check(v4, 'ipv4')) return null;
  return `destination ${address} is a ${kind} address (not allowed for webhooks; see KEYFENCE_WEBHOOK_ALLOWED_HOSTS)`;
}
