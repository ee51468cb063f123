import type { Redis } from 'ioredis';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { addWatcher, tellWatchers, type PushedRecordsListener, type PushedRunFilter, type PushWatcher, type RecordWatch } from '../store/record-pusher';

/**
 * Hears the pushes of a RedisRunStore's `recordSteps` (a PUBLISH in the script that writes the
 * records) on a connection of its own, a duplicate of the store's client: opened by the first
 * watch, closed when the last watch closes (or the store does), so that it never keeps a process
 * alive by itself. ioredis subscribes it again after a reconnect; the pushes sent meanwhile are
 * missed, and their records are read instead (a caller's reconciliation; no wake-up comes for
 * a record its store pushed).
 */
export class RedisPushSubscriber {
  private readonly listeners = new Set<PushWatcher>();
  private subscriber: Redis | undefined;
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly channel: string,
    private readonly storeName: string,
  ) {}

  /** Calls `listener` with the pushes from now on; resolves once subscribed. @throws StoreUnavailableError when Redis cannot be reached */
  async watch(listener: PushedRecordsListener, wants?: PushedRunFilter): Promise<RecordWatch> {
    const watch = addWatcher(this.listeners, listener, wants, () => this.close());
    this.subscribed ??= this.subscribe();
    try {
      await this.subscribed;
    } catch (error) {
      watch.close();
      this.close();
      throw new StoreUnavailableError(this.storeName, undefined, error);
    }
    return watch;
  }

  /** Disconnects (the listeners that remain hear nothing more). */
  close(): void {
    this.listeners.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.subscribed = undefined;
  }

  /**
   * Opens the connection and subscribes while it still connects (ioredis sends it once ready; sent
   * later, it could go out during ioredis's ready check and be lost with the reconnect that
   * follows). Settings a given client may have that would break a subscriber are overridden.
   */
  private subscribe(): Promise<void> {
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true, autoResubscribe: true, lazyConnect: false });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) tellWatchers(this.listeners, text);
    });
    this.subscriber = subscriber;
    return subscriber.subscribe(this.channel).then(() => undefined);
  }
}
