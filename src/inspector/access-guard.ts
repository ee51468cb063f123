import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The cookie a `?token=` login sets. */
export const SESSION_COOKIE = 'fastroai_inspector';

/** What to do with a request, as far as who may see the inspector goes. */
export type AccessDecision =
  | { kind: 'allow' }
  /** A correct `?token=`: set the session cookie and send the browser to `location` (the token left out of the address). */
  | { kind: 'login'; setCookie: string; location: string }
  /** No token, a wrong one, or (without a token) a Host header that is not a loopback name. */
  | { kind: 'deny'; status: 401 | 403; reason: string };

/**
 * Who may use the inspector.
 * - With a `token`: every request shows it, as `Authorization: Bearer <token>`, or as the
 *   HttpOnly session cookie a `?token=<token>` login sets (a random per-process value, not the
 *   token itself). Anything else is 401.
 * - Without one (only allowed on a loopback address): requests must name a loopback host in
 *   their `Host` header, so a web page that re-binds its own DNS name to 127.0.0.1 (DNS
 *   rebinding) cannot read the runs from a browser on this machine: 403.
 */
export class AccessGuard {
  private readonly token: Buffer | undefined;
  private readonly session = randomBytes(32).toString('base64url');

  constructor(token: string | undefined) {
    this.token = token === undefined ? undefined : Buffer.from(token);
  }

  /** Decides about one request; `url` is its parsed URL. */
  decide(request: IncomingMessage, url: URL): AccessDecision {
    if (this.token === undefined) {
      return isLoopbackHostHeader(request.headers.host)
        ? { kind: 'allow' }
        : { kind: 'deny', status: 403, reason: 'This inspector answers requests for a loopback host only (127.0.0.1, localhost, [::1]).' };
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && this.isToken(bearer.trim())) return { kind: 'allow' };
    if (cookieOf(request, SESSION_COOKIE) === this.session) return { kind: 'allow' };
    const given = url.searchParams.get('token');
    if (given !== null && this.isToken(given) && request.method === 'GET') {
      const rest = new URLSearchParams(url.searchParams);
      rest.delete('token');
      const query = rest.toString();
      return {
        kind: 'login',
        // Lax, not Strict: a login link opened from another site (a chat, a ticket) must keep its
        // session on the redirect and on reload; every action is a POST checked for its CSRF token and Origin.
        setCookie: `${SESSION_COOKIE}=${this.session}; HttpOnly; SameSite=Lax; Path=/`,
        // One leading slash: `/x/..//evil.example?token=…` resolves to the path `//evil.example`, which a browser reads as another host.
        location: `/${url.pathname.replace(/^\/+/, '')}${query === '' ? '' : `?${query}`}`,
      };
    }
    return { kind: 'deny', status: 401, reason: 'This inspector needs its token: send "Authorization: Bearer <token>" or open it once with ?token=<token>.' };
  }

  private isToken(candidate: string): boolean {
    const given = Buffer.from(candidate);
    return given.length === this.token!.length && timingSafeEqual(given, this.token!);
  }
}

/** Whether a host name or address is a loopback one (`localhost`, `127.x.x.x`, `::1`). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) || bare === '::ffff:127.0.0.1';
}

function isLoopbackHostHeader(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(:\d+)?$/.exec(hostHeader);
  return match !== null && isLoopbackHost(match[1]);
}

/** The value of a cookie of the request, if it sent one. */
function cookieOf(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}
