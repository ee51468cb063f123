import type { IncomingMessage } from 'node:http';
import { AccessGuard, isLoopbackHost } from '../../src/inspector/access-guard';

describe('isLoopbackHost', () => {
  it('knows the loopback names and addresses', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) expect([host, isLoopbackHost(host)]).toEqual([host, true]);
  });

  it('treats every other host as reachable from elsewhere', () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.2', 'example.com', 'localhost.evil.example', '127.0.0.1.evil.example', '128.0.0.1']) {
      expect([host, isLoopbackHost(host)]).toEqual([host, false]);
    }
  });
});

describe('AccessGuard', () => {
  const token = 'a-long-enough-token';
  const decide = (path: string) =>
    new AccessGuard(token).decide({ method: 'GET', headers: { host: '192.0.2.2:4800' } } as IncomingMessage, new URL(path, 'http://inspector.invalid'));

  it('sends a ?token= login back to the same path on this inspector, never to another host', () => {
    expect(decide(`/runs/doc-1?token=${token}&status=failed`)).toEqual(expect.objectContaining({ kind: 'login', location: '/runs/doc-1?status=failed' }));
    for (const path of [`/x/..//evil.example?token=${token}`, `/.//evil.example/runs?token=${token}`]) {
      const decision = decide(path);
      expect(decision.kind).toBe('login');
      expect([path, (decision as { location: string }).location]).toEqual([path, expect.stringMatching(/^\/[^/\\]/)]);
    }
  });

  it('refuses a wrong token', () => {
    expect(decide('/?token=wrong-but-long-enough').kind).toBe('deny');
  });
});
