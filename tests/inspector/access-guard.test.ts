import { isLoopbackHost } from '../../src/inspector/access-guard';

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
