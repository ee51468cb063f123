/**
 * CPU time of processes on this machine, for the distributed rows' CPU per step: a worker
 * child's or a local server's (user + system, from /proc), and this process's own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU ms process `pid` has used so far; undefined where /proc cannot tell (another OS, a remote server, a process gone). */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU ms of several processes together; undefined when any cannot be read. */
export function processesCpuMs(pids: readonly (number | undefined)[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const ms = processCpuMs(pid);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}

/** This process's CPU ms so far. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** The process id of the Redis at 127.0.0.1:`port` when it is a `redis-server` process of this machine (INFO's process_id, checked in /proc). */
export async function localRedisPid(port: number): Promise<number | undefined> {
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  try {
    const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    return Number.isInteger(pid) && readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('redis-server') ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/**
 * CPU ms so far of each `postgres` process of this machine (the server and its backends, one
 * per connection, and its background workers), by pid; undefined where /proc cannot tell.
 */
export function postgresCpuReading(): Map<number, number> | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const reading = new Map<number, number>();
  for (const pid of pids) {
    let name: string;
    try {
      name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue; // gone meanwhile
    }
    const ms = name === 'postgres' ? processCpuMs(Number(pid)) : undefined;
    if (ms !== undefined) reading.set(Number(pid), ms);
  }
  return reading;
}

/**
 * CPU ms the `postgres` processes used since the reading `before`: a process read both times
 * counts the difference, one started since all of its time. One that exited meanwhile (an
 * autovacuum worker, a closed connection's backend) takes its time with it: the pools of a
 * measurement stay open across it. Never negative (a sum of totals would be when a busy
 * process exits; a run of this session's bench printed -40 µs a step).
 */
export function postgresCpuSince(before: Map<number, number> | undefined): number | undefined {
  const after = postgresCpuReading();
  if (before === undefined || after === undefined) return undefined;
  let used = 0;
  for (const [pid, ms] of after) {
    const was = before.get(pid) ?? 0;
    used += ms >= was ? ms - was : ms; // less than before: another process got the pid since
  }
  return used;
}
