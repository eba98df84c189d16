// @ts-check
/**
 * The embedded database's own thread: opens PGlite and runs what PgliteWorkerClient sends.
 * Statements from outside a transaction wait for it (PGlite serializes them), so the semantics are
 * those of one PGlite instance used from one thread. Plain JavaScript (type-checked through JSDoc)
 * so that Node loads it as it is, from the sources in tests as from dist.
 */
import { PGlite } from '@electric-sql/pglite';
import { parentPort } from 'node:worker_threads';

/** @typedef {import('./pglite-protocol.js').PgliteRequest} PgliteRequest */
/** @typedef {import('./pglite-protocol.js').PgliteReply} PgliteReply */
/** @typedef {import('./pglite-protocol.js').WireError} WireError */
/** @typedef {import('./pglite-protocol.js').WireQueryOptions} WireQueryOptions */
/** @typedef {Pick<PGlite, 'query' | 'exec'>} Queryable */

if (parentPort === null) throw new Error('pglite-worker must run in a worker thread');
const port = parentPort;

/** @type {PGlite | undefined} */
let db;
let nextTxId = 1;
/** Open transactions: the handle and how to finish it (true commits). @type {Map<number, {tx: Queryable, finish: (commit: boolean, replyId: number) => void}>} */
const transactions = new Map();
/**
 * PostgreSQL's memory settings for the embedded database. Its default shared_buffers (128 MB) is
 * allocated inside the WebAssembly memory and touched at start, and was most of an idle server's
 * resident memory; 16 MB holds a small PBX's whole directory (an installation that outgrows it
 * moves to PostgreSQL). Measured by `npm run bench:start` (docs/benchmarks.md).
 */
const MEMORY_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'temp_buffers=2MB', '-c', 'work_mem=2MB'];
/** Thrown inside the transaction callback to make PGlite roll back (a sentinel, never reported). */
const ROLLBACK = new Error('rolled back by the client');

/** @param {PgliteReply} message */
function reply(message) {
  port.postMessage(message);
}

/** @param {unknown} err @returns {WireError} */
function toWireError(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  /** @type {Record<string, string | number | undefined>} */
  const fields = {};
  for (const [k, v] of Object.entries(e)) if (typeof v === 'string' || typeof v === 'number') fields[k] = v;
  return { message: e.message, name: e.name, fields };
}

/** drizzle's parsers keep some types as text: their OIDs arrive here as `rawTypes`. @param {WireQueryOptions} o */
function queryOptions(o) {
  /** @type {Record<number, (value: string) => unknown>} */
  const parsers = {};
  for (const oid of o.rawTypes ?? []) parsers[oid] = (value) => value;
  return { rowMode: o.rowMode, parsers };
}

/** @param {number | undefined} txId @returns {Queryable} */
function target(txId) {
  if (db === undefined) throw new Error('database is not open');
  if (txId === undefined) return db;
  const t = transactions.get(txId);
  if (t === undefined) throw new Error('no such transaction');
  return t.tx;
}

/** Opens a transaction and resolves with its id once it has begun. @param {PGlite} open */
function begin(open) {
  const txId = nextTxId++;
  /** @type {number | undefined} */
  let endId;
  return new Promise((started, failed) => {
    open
      .transaction(async (tx) => {
        /** @type {boolean} */
        const commit = await new Promise((/** @type {(commit: boolean) => void} */ finish) => {
          transactions.set(txId, {
            tx,
            finish: (c, id) => {
              endId = id;
              finish(c);
            },
          });
          started(txId);
        });
        transactions.delete(txId);
        if (!commit) throw ROLLBACK;
      })
      .then(
        () => reply({ id: /** @type {number} */ (endId), ok: true, value: null }),
        (/** @type {unknown} */ err) => {
          transactions.delete(txId);
          if (endId === undefined) failed(err instanceof Error ? err : new Error(String(err)));
          else if (err === ROLLBACK) reply({ id: endId, ok: true, value: null });
          else reply({ id: endId, ok: false, error: toWireError(err) });
        },
      );
  });
}

/** @param {PgliteRequest} r @returns {Promise<unknown>} */
async function run(r) {
  switch (r.kind) {
    case 'open':
      db = new PGlite(r.dataDir, { startParams: [...PGlite.defaultStartParams, ...MEMORY_SETTINGS] });
      await db.waitReady;
      return null;
    case 'query':
      return target(r.txId).query(r.sql, r.params, queryOptions(r.options));
    case 'exec':
      return target(r.txId).exec(r.sql);
    case 'begin':
      if (db === undefined) throw new Error('database is not open');
      return begin(db);
    case 'end': {
      const t = transactions.get(r.txId);
      if (t === undefined) throw new Error('no such transaction');
      t.finish(r.commit, r.id); // answered once PGlite has committed or rolled back
      return undefined;
    }
    case 'close':
      await db?.close();
      db = undefined;
      return null;
  }
}

port.on('message', (/** @type {PgliteRequest} */ r) => {
  run(r).then(
    (value) => {
      if (r.kind !== 'end') reply({ id: r.id, ok: true, value });
    },
    (/** @type {unknown} */ err) => reply({ id: r.id, ok: false, error: toWireError(err) }),
  );
});
