import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Per-session CSRF tokens. Loading the page opens a session: a random id in an HttpOnly, SameSite=Strict cookie, and
 * a random token written into the page. An action (POST) must carry both: the cookie, which the browser sends only
 * from this origin's pages, and the token in X-CSRF-Token, which only a page of this origin can read. Tokens are
 * compared in constant time. Sessions live in memory (a restarted console asks for a reload).
 */

export const SESSION_COOKIE = 'b2b_console_session';
export const CSRF_HEADER = 'x-csrf-token';
const MAX_SESSIONS = 1_000;

export class Sessions {
  private readonly tokens = new Map<string, string>();

  /** The request's session, or a new one (the oldest forgotten past MAX_SESSIONS). */
  open(req: IncomingMessage): { id: string; token: string; isNew: boolean } {
    const id = sessionIdOf(req);
    const token = id === undefined ? undefined : this.tokens.get(id);
    if (id !== undefined && token !== undefined) return { id, token, isNew: false };
    const fresh = { id: randomBytes(32).toString('base64url'), token: randomBytes(32).toString('base64url') };
    this.tokens.set(fresh.id, fresh.token);
    if (this.tokens.size > MAX_SESSIONS) this.tokens.delete(this.tokens.keys().next().value!);
    return { ...fresh, isNew: true };
  }

  /** Whether the request belongs to a session this console opened. */
  known(req: IncomingMessage): boolean {
    const id = sessionIdOf(req);
    return id !== undefined && this.tokens.has(id);
  }

  /** Whether the request carries its session's CSRF token. */
  tokenMatches(req: IncomingMessage): boolean {
    const id = sessionIdOf(req);
    const expected = id === undefined ? undefined : this.tokens.get(id);
    const sent = req.headers[CSRF_HEADER];
    if (expected === undefined || typeof sent !== 'string') return false;
    // Equal-length digests, so the comparison takes the same time whatever was sent.
    const digest = (text: string) => createHash('sha256').update(text).digest();
    return timingSafeEqual(digest(sent), digest(expected));
  }
}

export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict`;
}

function sessionIdOf(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}
