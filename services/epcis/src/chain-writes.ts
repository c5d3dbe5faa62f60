import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Topics } from '@trace/contracts';
import { EVENT_TRANSPORT, type EventTransport } from '@trace/messaging';
import { PLATFORM_CONFIG, schemaFor, type PlatformConfig } from '@trace/platform';

/**
 * When the trace chains last moved by any write path other than an EPCIS capture (a domain's REST
 * `/batches/{id}/events`, a registration): stream subscriptions look again after it, as they do after a
 * capture job moves. Learnt from the chain writers' own messages (the outbox relay's publishes: in-process
 * when embedded, Kafka distributed), which are sent only after the writing transaction committed, so the
 * events are there to read when the signal comes. Nothing is stored and nothing polled: an idle system
 * costs no statement here.
 *
 * Distributed, the consumer group is the epcis service (one replica hears each message): the webhook
 * worker of that replica leases any subscription; a WebSocket held by another replica waits for the next
 * message it hears or the next capture.
 */
@Injectable()
export class ChainWrites implements OnApplicationBootstrap {
  private last?: Date;
  private readonly listeners = new Set<() => void>();

  constructor(
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async onApplicationBootstrap() {
    // A group of its own (no inbox: a repeated or lost-on-crash signal only costs or saves one look).
    await this.transport.subscribe(schemaFor('epcis_chain_writes', this.config.DB_SCHEMA_PREFIX), [Topics.batch, Topics.event], async () => {
      this.last = new Date();
      for (const l of this.listeners) l();
      return 'ignored';
    });
  }

  /** The time the last chain write was heard of (undefined: none since this process started). */
  get movedAt(): Date | undefined {
    return this.last;
  }

  /** Calls `listener` at each chain write heard of; answers the unsubscribe. */
  onWrite(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
