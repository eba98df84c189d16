/**
 * CDR search and user list latency on a large directory (the directory's performance target), through the same
 * services the REST API calls (CdrSearchService.search, UserService.list), on embedded PGlite
 * (in its worker thread, as the server runs it) and on PostgreSQL in the same run.
 *
 *   npx tsx bench/cdr/cdr-search-bench.ts [--cdrs 1000000] [--users 10000] [--runs 20] [--engines pglite,postgres]
 *
 * Data: one big tenant (big.example, 60 % of the CDRs, all the users, a 20-member group) and nine
 * small ones sharing the rest; calls spread over 90 days with realistic dispositions. Generated in
 * SQL (generate_series), not through the API. Prints p50/p95 per query and engine, and markdown rows.
 * PostgreSQL: HANDSET_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test); a scratch
 * database is created and dropped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { SecretBox } from '../../apps/server/src/config/secret-box.js';
import { createDirectoryServices } from '../../apps/server/src/directory/directory-services.js';
import type { Principal } from '../../apps/server/src/directory/principal.js';
import { openStore } from '../../apps/server/src/store/open-store.js';
import type { Store } from '../../apps/server/src/store/store.js';
import { createTestDatabase } from '../../apps/server/src/store/test-databases.js';

const { values: args } = parseArgs({
  options: {
    cdrs: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '20' },
    engines: { type: 'string', default: 'pglite,postgres' },
  },
});
const CDRS = Number(args.cdrs);
const USERS = Number(args.users);
const RUNS = Number(args.runs);
const DAY = 86_400_000;
const END = Date.parse('2026-12-01T00:00:00Z');

async function populate(store: Store): Promise<{ bigId: string; groupId: string }> {
  const db = store.db;
  const t0 = performance.now();
  await db.execute(sql`insert into domains (domain, name)
    select case when i = 0 then 'big.example' else 'small' || i || '.example' end, 'Tenant ' || i
    from generate_series(0, 9) as i`);
  const [big] = (await db.execute(sql`select id from domains where domain = 'big.example'`)).rows as Array<{
    id: string;
  }>;
  const bigId = big!.id;
  // Users 10000.. in the big tenant (the SIP password column holds a placeholder: nothing authenticates here).
  await db.execute(sql`insert into users (domain_id, ext, sip_password_enc, name, email, role)
    select ${bigId}::uuid, (10000 + i)::text, 'x', 'User ' || i, 'user' || i || '@big.example', 'agent'
    from generate_series(0, ${USERS - 1}::int) as i`);
  await db.execute(sql`insert into user_groups (domain_id, name, ext) values (${bigId}::uuid, 'Sales', '600')`);
  const [g] = (await db.execute(sql`select id from user_groups where ext = '600'`)).rows as Array<{ id: string }>;
  await db.execute(
    sql`update users set group_id = ${g!.id}::uuid where domain_id = ${bigId}::uuid and ext::int < 10020`,
  );
  // CDRs in chunks, so that no single statement holds a transaction over a million rows.
  const chunk = 100_000;
  for (let start = 0; start < CDRS; start += chunk) {
    const n = Math.min(chunk, CDRS - start);
    await db.execute(sql`insert into cdrs (domain, call_id, caller, callee, started_at, answered_at, ended_at,
        duration_s, billable_s, disposition, sip_status, sip_reason)
      select d, 'c' || i || '@bench', caller || '@' || d, callee || '@' || d,
        ts, case when disp = 'answered' then ts + interval '3 seconds' end, ts + interval '1 second' * dur,
        dur, case when disp = 'answered' then dur - 3 else 0 end, disp,
        case disp when 'answered' then 200 when 'busy' then 486 when 'no-answer' then 480 when 'cancelled' then 487 else 503 end,
        case disp when 'answered' then 'OK' when 'busy' then 'Busy Here' else 'Temporarily Unavailable' end
      from (
        select i,
          case when i % 10 < 6 then 'big.example' else 'small' || (1 + i % 9) || '.example' end as d,
          (10000 + (i::bigint * 7919) % ${USERS}::int)::text as caller,
          (10000 + (i::bigint * 104729) % ${USERS}::int)::text as callee,
          to_timestamp((${END} - (i::bigint * 7777777) % ${90 * DAY}::bigint) / 1000.0) as ts,
          5 + (i * 31) % 600 as dur,
          (array['answered','answered','answered','answered','answered','busy','no-answer','cancelled','failed'])[1 + i % 9] as disp
        from generate_series(${start}::int, ${start + n - 1}::int) as i
      ) s`);
  }
  await db.execute(sql`analyze`);
  console.error(`populated ${CDRS} CDRs, ${USERS} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { bigId, groupId: g!.id };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function time(run: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await run();
  await run();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
}

async function measure(engine: string, store: Store): Promise<string[]> {
  const { bigId, groupId } = await populate(store);
  const svc = createDirectoryServices(store, new SecretBox(randomBytes(32)));
  const owner: Principal = {
    userId: undefined,
    email: 'owner@big.example',
    role: 'owner',
    domainId: bigId,
    domain: 'big.example',
    via: 'token',
  };
  const superadmin: Principal = { ...owner, role: 'superadmin', domainId: undefined, domain: undefined };
  const from = new Date(END - 8 * DAY);
  const to = new Date(END - 7 * DAY);
  const queries: Array<[string, () => Promise<unknown>]> = [
    ['CDRs, tenant, newest page of 100', () => svc.cdrs.search(owner, { pageSize: 100 })],
    ['CDRs, tenant, keyword "10042"', () => svc.cdrs.search(owner, { keyword: '10042', pageSize: 100 })],
    ['CDRs, tenant, one day (date range)', () => svc.cdrs.search(owner, { from, to, pageSize: 100 })],
    ['CDRs, tenant, group of 20', () => svc.cdrs.search(owner, { group: groupId, pageSize: 100 })],
    ['CDRs, tenant, page 50 of 100', () => svc.cdrs.search(owner, { page: 50, pageSize: 100 })],
    ['CDRs, superadmin, keyword "busy"', () => svc.cdrs.search(superadmin, { keyword: 'busy', pageSize: 100 })],
    [`users, tenant of ${USERS}, first page of 100`, () => svc.users.list(owner, { pageSize: 100 })],
    [`users, tenant of ${USERS}, keyword "user42"`, () => svc.users.list(owner, { keyword: 'user42', pageSize: 100 })],
  ];
  const rows: string[] = [];
  for (const [name, run] of queries) {
    const { p50, p95 } = await time(run);
    console.log(`${engine.padEnd(10)} ${name.padEnd(44)} p50 ${p50.toFixed(1).padStart(8)} ms  p95 ${p95.toFixed(1).padStart(8)} ms`);
    rows.push(`| ${engine} | ${name} | ${p50.toFixed(1)} ms | ${p95.toFixed(1)} ms |`);
  }
  return rows;
}

const rows: string[] = [];
for (const engine of args.engines.split(',')) {
  if (engine === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'handset-cdr-bench-'));
    const store = await openStore({ database: { kind: 'pglite', dir: join(dir, 'db') } });
    try {
      rows.push(...(await measure('PGlite', store)));
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  } else if (engine === 'postgres') {
    const pg = await createTestDatabase();
    if (pg === undefined) {
      console.error('PostgreSQL not reachable: skipped');
      continue;
    }
    const store = await openStore({ database: { kind: 'postgres', url: pg.url } });
    try {
      rows.push(...(await measure('PostgreSQL', store)));
    } finally {
      await store.close();
      await pg.drop();
    }
  }
}
console.log(`\nmarkdown rows (${CDRS} CDRs, ${USERS} users, ${RUNS} runs each):`);
for (const r of rows) console.log(r);
