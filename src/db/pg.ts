import type * as Pg from 'pg';

/**
 * pg, loaded without Node's fetch: the service's code takes pg from here, never from 'pg' itself.
 * As it loads, pg asks whether it runs in a Cloudflare Worker: from `navigator.userAgent` where
 * there is one (Node 21 and later), else by constructing a `Response`. On Node 20 that first touch
 * of the global loads Node's whole fetch implementation (undici, web streams, http2): 3.3 MB of RSS
 * in this service for a question whose answer is no. Without the global, pg takes Node's sockets;
 * the global is then put back as it was (still loaded on first use). Where `navigator` answers, the
 * global is left alone: on Node 24 even reading its descriptor loads fetch (about 5 MB of RSS).
 */
function loadPg(): typeof Pg {
  const { navigator } = globalThis as { navigator?: { userAgent?: unknown } };
  if (typeof navigator?.userAgent === 'string') return require('pg') as typeof Pg;
  const response = Object.getOwnPropertyDescriptor(globalThis, 'Response');
  if (!response?.configurable) return require('pg') as typeof Pg;
  delete (globalThis as { Response?: unknown }).Response;
  try {
    return require('pg') as typeof Pg;
  } finally {
    Object.defineProperty(globalThis, 'Response', response);
  }
}

const pg = loadPg();

export const Client = pg.Client;
export type Client = Pg.Client;
export const Pool = pg.Pool;
export type Pool = Pg.Pool;
export const DatabaseError = pg.DatabaseError;
export type DatabaseError = Pg.DatabaseError;
export const escapeIdentifier = pg.escapeIdentifier;
export type { PoolClient, PoolConfig, QueryResult } from 'pg';
