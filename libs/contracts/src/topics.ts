/**
 * Topic names, in one place. Streams are few and named by what they carry;
 * the message key is the subject (batch or recall id) so one subject's events
 * stay ordered within a partition.
 */
export const Topics = {
  batch: 'trace.batch.v1',
  event: 'trace.event.v1',
  inspection: 'trace.inspection.v1',
  certificate: 'trace.certificate.v1',
  recall: 'trace.recall.v1',
  incident: 'trace.incident.v1',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

/** Where poison messages of a topic go, with the reason in the headers. */
export const deadLetterTopic = (topic: string) => `${topic}.dlq`;
