// The write API from the browser (serve/api): the participant's session token kept in localStorage, JSON calls
// with `Authorization: Bearer`, an Idempotency-Key on every write, and the API's one error shape.
import type { NodeView } from '../../../serve/api/reads.js';
const TOKEN_KEY = 'weft.session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function storedToken(): string | undefined {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function storeToken(token: string | undefined): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage blocked (e.g. a third-party iframe): the token lives for this page only
  }
}

export interface Me {
  roleId: string;
  regionId: string;
  name: string;
}

/** GET /api/nodes/{id}: the server's NodeView (one definition for both sides) with the presence count. */
export type NodeDetail = NodeView & { presence: number };

export interface WriteResult {
  ok: boolean;
  ids: Record<string, string>;
  position: number;
  replayed: boolean;
}

/** A random key (crypto.randomUUID needs a secure context; getRandomValues does not). */
function idempotencyKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}

export async function api<T>(
  path: string,
  o: { method?: string; body?: unknown; token?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (o.body !== undefined) headers['Content-Type'] = 'application/json';
  if (o.token) headers.Authorization = `Bearer ${o.token}`;
  if ((o.method ?? 'GET') !== 'GET') headers['Idempotency-Key'] = idempotencyKey();
  let res: Response;
  try {
    res = await fetch(path, {
      method: o.method ?? 'GET',
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'the server cannot be reached; check the connection');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}
