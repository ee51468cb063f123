/** An ioredis client as followed here (BullMQ's queue client is typed as its own interface). */
interface FollowedClient {
  on(event: 'connect', listener: () => void): unknown;
}

/**
 * Connections that keep the process alive only while something needs them: a QueueRunner's own
 * Redis connections (its subscriber, its queue's client) are unreferenced while no step of its
 * waits and no call of its is in flight (a cancellation's messages, `close()`), so that a script
 * whose runs ended can exit without `runner.close()`, as API.md's one-line example writes it
 * (`runner: new QueueRunner({ connection })`). ioredis opens a new socket on each reconnect:
 * each is referenced or not as the state is then.
 */
export class IdleConnections {
  private readonly clients = new Set<FollowedClient>();
  private stepsWait = false;
  private callsInFlight = 0;
  private referenced = false;

  /** Follows `client` (one of ours: a client the user gave is left as it is). */
  add(client: FollowedClient): void {
    if (this.clients.has(client)) return;
    this.clients.add(client);
    client.on('connect', () => this.apply(client));
    this.apply(client);
  }

  /** Some step waits (the sockets keep the process alive) or none does. */
  setStepsWait(stepsWait: boolean): void {
    this.stepsWait = stepsWait;
    this.update();
  }

  /** Keeps the sockets referenced until `call` settled (a call sent while no step waits). */
  hold<T>(call: Promise<T>): Promise<T> {
    this.callsInFlight++;
    this.update();
    const done = () => {
      this.callsInFlight--;
      this.update();
    };
    call.then(done, done);
    return call;
  }

  private update(): void {
    const referenced = this.stepsWait || this.callsInFlight > 0;
    if (referenced === this.referenced) return;
    this.referenced = referenced;
    for (const client of this.clients) this.apply(client);
  }

  private apply(client: FollowedClient): void {
    const socket = (client as { stream?: { ref?: () => void; unref?: () => void } }).stream;
    if (this.referenced) socket?.ref?.();
    else socket?.unref?.();
  }
}
