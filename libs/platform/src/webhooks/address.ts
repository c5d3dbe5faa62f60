import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Never a webhook target, whatever the settings: link-local (cloud metadata lives there) and known metadata addresses. */
const ALWAYS_REFUSED = new BlockList();
ALWAYS_REFUSED.addSubnet('169.254.0.0', 16, 'ipv4');
ALWAYS_REFUSED.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata, outside link-local
ALWAYS_REFUSED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_REFUSED.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6

/** Loopback, private, shared, unspecified, multicast and reserved ranges: refused unless WEBHOOK_ALLOW_PRIVATE=true. */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv6');
}

export type AddressClass = 'public' | 'private' | 'link-local';

/** An IPv4 address written as IPv6 (::ffff:10.0.0.1, ::ffff:a00:1) is judged as the IPv4 address it is. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const lower = address.toLowerCase();
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return { address: dotted[1], family: 'ipv4' };
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 'ipv4' };
  }
  return { address: lower, family: isIP(lower) === 4 ? 'ipv4' : 'ipv6' };
}

/** Where an IP address points: the public internet, a private network (loopback included), or link-local / metadata. */
export function classifyAddress(address: string): AddressClass {
  const { address: a, family } = unmapped(address);
  if (ALWAYS_REFUSED.check(a, family)) return 'link-local';
  if (PRIVATE.check(a, family)) return 'private';
  return 'public';
}

/** Why an address may not be a webhook target, or undefined when it may. */
export function addressRefusal(address: string, allowPrivate: boolean): string | undefined {
  const kind = classifyAddress(address);
  if (kind === 'link-local') return `${address} is a link-local or cloud-metadata address`;
  if (kind === 'private' && !allowPrivate) return `${address} is a loopback or private address`;
  return undefined;
}

export interface ResolvedTarget {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves a webhook URL's host and checks every address it resolves to (a
 * name with one private address among public ones is refused: the connection
 * could pick it). Returns the address to connect to, so the check and the
 * connection see the same answer (no second lookup a rebinding DNS server
 * could answer differently). Throws with the reason when refused.
 */
export async function resolveTarget(url: URL, allowPrivate: boolean): Promise<ResolvedTarget> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch (err) {
      throw new TargetRefused(`${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`);
    }
  }
  if (addresses.length === 0) throw new TargetRefused(`${host} does not resolve`);
  for (const a of addresses) {
    const why = addressRefusal(a.address, allowPrivate);
    if (why) throw new TargetRefused(host === a.address ? why : `${host} resolves to ${why}`);
  }
  return { address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}

export class TargetRefused extends Error {}
