import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The check of every action (POST): the request carries this process's secret token (the
 * `csrf` form field the pages put in their forms, or an `X-CSRF-Token` header), and, when the
 * browser says where it comes from (`Origin`, `Sec-Fetch-Site`), it comes from the inspector
 * itself. Another site can make a browser POST here but can neither read the token nor fake
 * the Origin.
 */
export class CsrfGuard {
  /** The token pages embed in their forms; new for each inspector. */
  readonly token = randomBytes(24).toString('base64url');

  /** Undefined when the request passes; otherwise why it does not. */
  check(request: IncomingMessage, formToken: string | undefined): string | undefined {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host}`) return `the request comes from another origin (${origin})`;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return `the request comes from another site (Sec-Fetch-Site: ${site})`;
    const header = request.headers['x-csrf-token'];
    const given = formToken ?? (typeof header === 'string' ? header : undefined);
    if (given === undefined) return 'the request has no CSRF token';
    const expected = Buffer.from(this.token);
    const actual = Buffer.from(given);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return 'the CSRF token is wrong';
    return undefined;
  }
}
