import { domainNameOf, type Domain } from '@trace/contracts';
import { PoisonMessageError } from '@trace/messaging';

/** A message's domain by name; an unknown one makes the message poison. */
export function domainName(d: Domain): string {
  const name = domainNameOf(d);
  if (!name) throw new PoisonMessageError(`unknown domain ${d}`);
  return name;
}
