import { DOMAINS } from '@trace/trace-service';

/**
 * The domains EPCIS capture writes to and the query fans out to: all five,
 * unless `EPCIS_DOMAINS` names fewer (a deployment that runs only some domain
 * services). A listed domain that does not answer fails the request (503)
 * rather than giving a silently partial answer.
 */
export function epcisDomains(env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = env.EPCIS_DOMAINS?.split(',').map((s) => s.trim()).filter(Boolean);
  return listed?.length ? DOMAINS.filter((d) => listed.includes(d)) : [...DOMAINS];
}
