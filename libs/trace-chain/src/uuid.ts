const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VERSIONED = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A UUID in its canonical text form, any case: what a uuid column takes, so a query never fails on it. */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && CANONICAL.test(value);

/**
 * A UUID that some generator made (RFC 9562 version 1–8, variant bits set):
 * what message and inspection ids must be, as every producer of ours makes them.
 */
export const isGeneratedUuid = (value: unknown): value is string => typeof value === 'string' && VERSIONED.test(value);
