import type { EntityManager } from 'typeorm';
import { DOMAIN_ENUM, timestampFromDate, type DomainName } from '@trace/contracts';
import type { Outbox } from '@trace/messaging';

/** Announces a certificate about a batch (compliance certificate, batch release…) in the caller's transaction. */
export function announceCertificate(
  m: EntityManager,
  outbox: Outbox,
  c: { domain: DomainName; batchId: string; number: string; kind: string; issuedAt: Date; issuerOrgId: string },
) {
  return outbox.append(
    m,
    'certificateIssued',
    {
      batch: { domain: DOMAIN_ENUM[c.domain], batchId: c.batchId },
      number: c.number,
      kind: c.kind,
      issuedAt: timestampFromDate(c.issuedAt),
      issuerOrgId: c.issuerOrgId,
    },
    { subject: c.batchId, orgId: c.issuerOrgId, occurredAt: c.issuedAt },
  );
}
