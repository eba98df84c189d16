import { parse } from 'csv-parse/sync';
import { DirectoryError } from '../directory/directory-error.js';

/** A lead as imported: the numbers, a name, and free fields (every other column or key). */
export interface LeadInput {
  name: string | null;
  phone: string;
  altPhone: string | null;
  phoneCode: string | null;
  fields: Record<string, string | number | boolean | null>;
}

/** Limits of one import. */
export const LEAD_LIMITS = { rows: 50_000, fields: 50, fieldName: 64, fieldValue: 2000, name: 200, errors: 100 };

const KNOWN = new Set(['name', 'phone', 'alt_phone', 'phone_code', 'fields']);
/** What a dialled number may hold once spaces, dots, dashes and parentheses are taken out. */
const NUMBER = /^\+?[0-9*#]{1,32}$/;
const CODE = /^\+?[0-9]{1,8}$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A number as dialled: `+44 (0)20 7946-0000` gives `+4402079460000`; undefined when it is not a number. */
export function normalizeNumber(raw: string): string | undefined {
  const n = raw.trim().replace(/[\s().-]/g, '');
  return NUMBER.test(n) ? n : undefined;
}

/**
 * Checks leads given as JSON objects (`{name, phone, alt_phone, phone_code, fields, ...}`; keys
 * other than those go into the free fields). All or nothing: every bad lead is named in the
 * error (`fields` keyed `<label> <n>`), up to {@link LEAD_LIMITS}.errors of them.
 */
export function readLeads(rows: readonly unknown[], label = (i: number) => `lead ${i + 1}`): LeadInput[] {
  if (rows.length === 0) throw new DirectoryError('INVALID_INPUT', 'no leads to import');
  if (rows.length > LEAD_LIMITS.rows)
    throw new DirectoryError(
      'INVALID_INPUT',
      `too many leads: ${rows.length} (at most ${LEAD_LIMITS.rows} per import)`,
    );
  const out: LeadInput[] = [];
  const errors: Record<string, string> = {};
  let count = 0;
  rows.forEach((row, i) => {
    try {
      out.push(readLead(row));
    } catch (e) {
      if (!(e instanceof LeadError)) throw e;
      if (count++ < LEAD_LIMITS.errors) errors[label(i)] = e.message;
    }
  });
  if (count > 0) {
    const more = count > LEAD_LIMITS.errors ? ` (${count} bad leads; the first ${LEAD_LIMITS.errors} are listed)` : '';
    const first = Object.entries(errors)[0]!;
    throw new DirectoryError('VALIDATION', `nothing imported: ${first[0]}: ${first[1]}${more}`, { fields: errors });
  }
  return out;
}

/**
 * Reads a CSV of leads: a header row (`phone` required; `name`, `alt_phone`, `phone_code`, any
 * other column a free field), then one lead a row. Errors name the CSV line.
 */
export function parseLeadCsv(text: string): LeadInput[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      // Files exported on one system and edited on another mix line endings.
      record_delimiter: ['\r\n', '\n', '\r'],
    }) as never;
  } catch (err) {
    const e = err as Error & { lines?: number };
    const line = typeof e.lines === 'number' ? e.lines : 1;
    throw new DirectoryError(
      'VALIDATION',
      `nothing imported: line ${line}: ${e.message.replace(/^Invalid Record Length: /, '')}`,
      {
        fields: { [`line ${line}`]: e.message },
      },
    );
  }
  const header = records[0];
  if (!header) throw new DirectoryError('INVALID_INPUT', 'the CSV is empty (expected a header row with phone)');
  const cols = header.record.map((c) => c.trim().toLowerCase());
  if (!cols.includes('phone'))
    throw new DirectoryError(
      'VALIDATION',
      `nothing imported: line ${header.info.lines}: the header has no phone column`,
      {
        fields: { [`line ${header.info.lines}`]: 'the header has no phone column' },
      },
    );
  const dup = cols.find((c, i) => cols.indexOf(c) !== i);
  if (dup !== undefined)
    throw new DirectoryError('VALIDATION', `nothing imported: line ${header.info.lines}: column ${dup} appears twice`, {
      fields: { [`line ${header.info.lines}`]: `column ${dup} appears twice` },
    });
  const body = records.slice(1);
  const objects = body.map(({ record }) => {
    const o: Record<string, unknown> = {};
    const free: Record<string, string> = {};
    cols.forEach((c, i) => {
      const v = record[i] ?? '';
      if (KNOWN.has(c) && c !== 'fields') o[c] = v;
      else if (v !== '') free[c] = v;
    });
    o.fields = free;
    return o;
  });
  return readLeads(objects, (i) => `line ${body[i]!.info.lines}`);
}

class LeadError extends Error {}

function readLead(row: unknown): LeadInput {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new LeadError('a lead is an object');
  const r = row as Record<string, unknown>;
  const text = (k: string): string | null => {
    const v = r[k];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v !== 'string') throw new LeadError(`${k} must be text`);
    return v.trim() === '' ? null : v.trim();
  };
  const phoneRaw = text('phone');
  if (phoneRaw === null) throw new LeadError('phone is missing');
  const phone = normalizeNumber(phoneRaw);
  if (!phone) throw new LeadError(`phone "${clip(phoneRaw)}" is not a number`);
  const altRaw = text('alt_phone');
  const altPhone = altRaw === null ? null : normalizeNumber(altRaw);
  if (altPhone === undefined) throw new LeadError(`alt_phone "${clip(altRaw!)}" is not a number`);
  const codeRaw = text('phone_code');
  if (codeRaw !== null && !CODE.test(codeRaw))
    throw new LeadError(`phone_code "${clip(codeRaw)}" is not a country or trunk prefix`);
  const name = text('name');
  if (name !== null && name.length > LEAD_LIMITS.name) throw new LeadError('name is too long');
  const fields: LeadInput['fields'] = {};
  const addField = (k: string, v: unknown) => {
    if (!FIELD_NAME.test(k) || k.length > LEAD_LIMITS.fieldName)
      throw new LeadError(`"${clip(k)}" is not a field name`);
    if (k === '__proto__' || k === 'constructor' || k === 'prototype')
      throw new LeadError(`"${k}" is not a field name`);
    if (typeof v === 'string') {
      if (v.length > LEAD_LIMITS.fieldValue) throw new LeadError(`field ${k} is too long`);
      // PostgreSQL text cannot hold NUL.
      if (v.includes('\u0000')) throw new LeadError(`field ${k} holds a NUL character`);
    } else if (!(v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))))
      throw new LeadError(`field ${k} must be text, a number, true/false or null`);
    fields[k] = v;
  };
  const extra = r.fields;
  if (extra !== undefined && extra !== null) {
    if (typeof extra !== 'object' || Array.isArray(extra)) throw new LeadError('fields must be an object');
    for (const [k, v] of Object.entries(extra)) addField(k, v);
  }
  for (const [k, v] of Object.entries(r)) if (!KNOWN.has(k)) addField(k, v);
  if (Object.keys(fields).length > LEAD_LIMITS.fields) throw new LeadError(`at most ${LEAD_LIMITS.fields} fields`);
  for (const s of [name, phoneRaw]) if (s?.includes('\u0000')) throw new LeadError('a value holds a NUL character');
  return { name, phone, altPhone, phoneCode: codeRaw, fields };
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
