import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

/** Largest page a list answers. */
export const MAX_PAGE_SIZE = 1000;

/** Paging and search of a list request (already validated by the API layer; clamped again here). */
export interface PageRequest {
  page?: number | undefined;
  pageSize?: number | undefined;
  /** Case-insensitive substring over the resource's text fields. */
  keyword?: string | undefined;
}

/** One page of a list, in the Phonenet shape. */
export interface Page<T> {
  docs: T[];
  totalDocs: number;
  limit: number;
  totalPages: number;
  page: number;
}

/** Page number and size within bounds, and the row offset. */
export function pageBounds(r: PageRequest): { page: number; limit: number; offset: number } {
  const page = Number.isSafeInteger(r.page) && r.page! >= 1 ? r.page! : 1;
  const limit = Number.isSafeInteger(r.pageSize) && r.pageSize! >= 1 ? Math.min(r.pageSize!, MAX_PAGE_SIZE) : 100;
  return { page, limit, offset: (page - 1) * limit };
}

/** Wraps rows and a total count as a {@link Page}. */
export function toPage<T>(docs: T[], totalDocs: number, b: { page: number; limit: number }): Page<T> {
  return { docs, totalDocs, limit: b.limit, totalPages: Math.ceil(totalDocs / b.limit), page: b.page };
}

/**
 * `col1 ILIKE %kw% OR col2 ILIKE ...` with LIKE wildcards in the keyword escaped (so "%" finds
 * a percent sign); undefined for an empty keyword. The keyword is a bound parameter.
 */
export function keywordFilter(keyword: string | undefined, columns: readonly (PgColumn | SQL)[]): SQL | undefined {
  // PostgreSQL text cannot hold NUL; callers outside the API may not have refused it.
  // eslint-disable-next-line no-control-regex
  const kw = keyword?.replace(/\u0000/g, '').trim();
  if (!kw) return undefined;
  const pattern = `%${kw.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const parts = columns.map((c) => sql`${c}::text ilike ${pattern}`);
  return sql`(${sql.join(parts, sql` or `)})`;
}
