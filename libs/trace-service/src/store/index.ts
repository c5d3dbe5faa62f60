/**
 * The store of a domain's trace core: the one writer of `batches`,
 * `trace_events` (chain links), `batch_holdings`, `batch_shipments`,
 * `batch_custody` and `batch_inputs`. Use cases decide; they write only
 * through these functions, in their own transaction, which also appends the
 * outbox rows announcing what was written (so a write and its announcement
 * commit together or not at all).
 */
export * from './batches';
export * from './chain-links';
export * from './holdings';
