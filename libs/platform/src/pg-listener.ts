import { Client } from 'pg';
import type { Logger } from './logging';

export interface PgListenerOptions {
  /** The database to LISTEN on (a connection of its own, outside any pool: LISTEN holds it). */
  url: string;
  channel: string;
  applicationName: string;
  logger: Logger;
  /** A NOTIFY on the channel arrived (any replica's commit). */
  onNotify: () => void;
  /**
   * LISTEN is up (the first time and after every reconnect). Notifications sent
   * while it was down are lost: the owner looks once now instead.
   */
  onListening?: () => void;
  /** Pause before reconnecting after the connection is lost. */
  retryMs?: number;
}

/**
 * A LISTEN that stays up: reconnects after a lost connection, and tells its
 * owner when it is listening, so that the owner can poll only as a slow safety
 * net while `listening` and fall back to its short interval while not.
 */
export class PgListener {
  private client: Client | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: PgListenerOptions) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(opts.channel)) throw new Error(`invalid LISTEN channel ${opts.channel}`);
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.client?.end().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const client = new Client({ connectionString: this.opts.url, application_name: this.opts.applicationName });
      try {
        client.on('error', () => undefined);
        const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
        await client.connect();
        client.on('notification', () => this.opts.onNotify());
        await client.query(`LISTEN "${this.opts.channel}"`);
        if (!this.running) break;
        this.client = client;
        this.opts.onListening?.();
        await ended;
      } catch (err) {
        this.opts.logger.debug({ err, channel: this.opts.channel }, 'LISTEN connection lost; polling meanwhile');
      } finally {
        this.client = undefined;
        await client.end().catch(() => undefined);
      }
      if (this.running) await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 1000).unref());
    }
  }
}
