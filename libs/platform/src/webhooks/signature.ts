import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** `X-Trace-Signature` of a body: `sha256=` and the hex HMAC-SHA256 of the raw bytes, keyed with the secret's UTF-8 bytes. */
export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does (README "Webhooks"): recompute and compare in constant time. */
export function verifySignature(body: string | Buffer, secret: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A new subscription's secret: 32 random bytes, shown once. */
export const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
