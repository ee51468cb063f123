/** An ioredis client as followed here (BullMQ's queue client is typed as its own interface). */
interface FollowedClient {
  on(event: 'connect', listener: () => void): unknown;
}

/**
 * Connections that keep the process alive only while something waits on them: a QueueRunner's
 * own Redis connections (its subscriber, its queue's client) are unreferenced while no step of
 * its waits, so that a script whose runs ended can exit without `runner.close()`, as API.md's
 * one-line example writes it (`runner: new QueueRunner({ connection })`). ioredis opens a new
 * socket on each reconnect: each is referenced or not as the state is then.
 */
export class IdleConnections {
  private readonly clients = new Set<FollowedClient>();
  private busy = false;

  /** Follows `client` (one of ours: a client the user gave is left as it is). */
  add(client: FollowedClient): void {
    if (this.clients.has(client)) return;
    this.clients.add(client);
    client.on('connect', () => this.apply(client));
    this.apply(client);
  }

  /** Something waits (the sockets keep the process alive) or nothing does (they do not). */
  setBusy(busy: boolean): void {
    if (busy === this.busy) return;
    this.busy = busy;
    for (const client of this.clients) this.apply(client);
  }

  private apply(client: FollowedClient): void {
    const socket = (client as unknown as { stream?: { ref?: () => void; unref?: () => void } }).stream;
    if (this.busy) socket?.ref?.();
    else socket?.unref?.();
  }
}
