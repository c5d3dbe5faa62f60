import { EntitySchema } from 'typeorm';

/** A row written in the same transaction as the state change it announces. */
export interface OutboxRow {
  id: string;
  eventId: string;
  topic: string;
  messageKey: string;
  eventType: string;
  payload: Buffer;
  createdAt: Date;
  sentAt: Date | null;
  attempts: number;
  lastError: string | null;
}

export const OutboxEntity = new EntitySchema<OutboxRow>({
  name: 'OutboxRow',
  tableName: 'outbox',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    eventId: { name: 'event_id', type: 'uuid', unique: true },
    topic: { type: 'text' },
    messageKey: { name: 'message_key', type: 'text' },
    eventType: { name: 'event_type', type: 'text' },
    payload: { type: 'bytea' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    sentAt: { name: 'sent_at', type: 'timestamptz', nullable: true },
    attempts: { type: 'int', default: 0 },
    lastError: { name: 'last_error', type: 'text', nullable: true },
  },
});

/** Proof that a consumer applied an event: its primary key makes a second apply impossible. */
export interface InboxRow {
  consumer: string;
  eventId: string;
  topic: string;
  eventType: string;
  processedAt: Date;
}

export const InboxEntity = new EntitySchema<InboxRow>({
  name: 'InboxRow',
  tableName: 'inbox',
  columns: {
    consumer: { type: 'text', primary: true },
    eventId: { name: 'event_id', type: 'uuid', primary: true },
    topic: { type: 'text' },
    eventType: { name: 'event_type', type: 'text' },
    processedAt: { name: 'processed_at', type: 'timestamptz', createDate: true },
  },
});

/** A message that can never be applied, kept with the reason (embedded mode's dead-letter queue). */
export interface DeadLetterRow {
  id: string;
  consumer: string;
  topic: string;
  messageKey: string | null;
  eventId: string | null;
  eventType: string | null;
  payload: Buffer;
  reason: string;
  attempts: number;
  createdAt: Date;
}

export const DeadLetterEntity = new EntitySchema<DeadLetterRow>({
  name: 'DeadLetterRow',
  tableName: 'dead_letters',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    consumer: { type: 'text' },
    topic: { type: 'text' },
    messageKey: { name: 'message_key', type: 'text', nullable: true },
    eventId: { name: 'event_id', type: 'text', nullable: true },
    eventType: { name: 'event_type', type: 'text', nullable: true },
    payload: { type: 'bytea' },
    reason: { type: 'text' },
    attempts: { type: 'int' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

export const MESSAGING_ENTITIES = [OutboxEntity, InboxEntity, DeadLetterEntity];
