import type { Client, Notification } from 'pg';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { addWatcher, tellWatchers, type PushedRecordsListener, type PushedRunFilter, type PushWatcher, type RecordWatch } from '../store/record-pusher';

/** The pause before listening again after the connection was lost, in ms. */
const RELISTEN_MS = 1_000;

/**
 * Hears the pushes of a PostgresRunStore's `recordSteps` (a NOTIFY on the store's channel, sent
 * at commit, with `pushRecords`) on a connection of its own (`connect`, outside the store's pool:
 * a LISTEN belongs to a session, and a pool of one connection would wait for it forever), open
 * while any watch is. A lost connection is replaced (after {@link RELISTEN_MS}, again while it
 * fails): the pushes sent meanwhile are missed, and their records are read instead.
 */
export class PostgresPushListener {
  private readonly watchers = new Set<PushWatcher>();
  private client: Client | undefined;
  private connecting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly connect: () => Promise<Client>,
    private readonly channel: string,
    private readonly storeName: string,
  ) {}

  /** Calls `listener` with the pushes from now on; resolves once the connection listens. @throws StoreUnavailableError when it cannot */
  async watch(listener: PushedRecordsListener, wants?: PushedRunFilter): Promise<RecordWatch> {
    if (this.closed) throw new StoreUnavailableError(this.storeName, undefined, new Error('the store is closed'));
    const watch = addWatcher(this.watchers, listener, wants, () => void this.release());
    try {
      await this.listening();
      if (this.client === undefined) throw new Error(this.closed ? 'the store is closed' : 'the connection that listens was lost');
    } catch (error) {
      watch.close();
      throw new StoreUnavailableError(this.storeName, undefined, error);
    }
    return watch;
  }

  /** Stops listening for good (the store closes). */
  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    await this.release();
  }

  /** Ends the connection, unless a watch came meanwhile (nobody watched when this was called). */
  private async release(): Promise<void> {
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    await this.connecting?.catch(() => undefined);
    if (!this.closed && this.watchers.size > 0) return;
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) this.drop(client);
  }

  private listening(): Promise<void> {
    if (this.client !== undefined) return Promise.resolve();
    this.connecting ??= this.listen().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async listen(): Promise<void> {
    const client = await this.connect();
    const lost = () => this.lost(client);
    client.on('notification', this.notified);
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      this.drop(client);
      throw error;
    }
    // Closed, or the last watch went, while it connected.
    if (this.closed || this.watchers.size === 0) this.drop(client);
    else this.client = client;
  }

  private readonly notified = (message: Notification): void => {
    if (message.channel === this.channel && message.payload !== undefined) tellWatchers(this.watchers, message.payload);
  };

  /** The connection went away (the server restarted, the backend was terminated): another one listens, while anyone watches. */
  private lost(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.drop(client);
    this.listenAgain();
  }

  private listenAgain(): void {
    if (this.closed || this.watchers.size === 0 || this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.listening().catch(() => this.listenAgain());
    }, RELISTEN_MS);
    this.retry.unref();
  }

  private drop(client: Client): void {
    client.off('notification', this.notified);
    client.on('error', () => undefined); // a late error of an ended connection is nobody's
    void client.end().catch(() => undefined);
  }
}
