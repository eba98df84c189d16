/**
 * Messages between {@link PgliteWorkerClient} (the server's thread) and pglite-worker.ts (the thread
 * that owns the embedded database). PGlite executes every statement synchronously in WebAssembly;
 * in its own thread it never holds up SIP or HTTP traffic on the main event loop.
 */

/** Query options that cross the thread boundary (parser functions cannot: see `rawTypes`). */
export interface WireQueryOptions {
  rowMode?: 'array' | 'object' | undefined;
  /** Type OIDs returned as the server's text, unparsed (drizzle passes identity parsers for these). */
  rawTypes?: number[] | undefined;
}

/** A request to the database thread; `id` pairs it with its reply. */
export type PgliteRequest =
  | { id: number; kind: 'open'; dataDir: string | undefined }
  | { id: number; kind: 'query'; sql: string; params: unknown[]; options: WireQueryOptions; txId?: number | undefined }
  | { id: number; kind: 'exec'; sql: string; txId?: number | undefined }
  | { id: number; kind: 'begin' }
  | { id: number; kind: 'end'; txId: number; commit: boolean }
  | { id: number; kind: 'close' };

/** A database error as it crosses the boundary: the message plus PostgreSQL's fields (code, constraint...). */
export interface WireError {
  message: string;
  name: string;
  fields: Record<string, string | number | undefined>;
}

/** The reply to one request. */
export type PgliteReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };
