import { parse } from 'csv-parse/sync';
import { DirectoryError } from './directory-error.js';
import { directoryValidation as v } from './directory-validation.js';

/** One validated user row of an import, with the CSV line it came from. */
export interface UserCsvRow {
  line: number;
  ext: string;
  password: string;
  name: string | undefined;
  email: string | undefined;
}

const COLUMNS = ['ext', 'password', 'name', 'email'] as const;
type Column = (typeof COLUMNS)[number];

/** Most rows one import accepts. */
export const MAX_IMPORT_ROWS = 100_000;

/**
 * Parses and validates a user import: a header row naming `ext` and `password` (and optionally
 * `name`, `email`) in any order, then one user a row. Blank lines are skipped; fields other than
 * the password are trimmed. Throws a CSV_LINE {@link DirectoryError} naming the first bad line,
 * including an extension or e-mail that repeats an earlier row.
 */
export function parseUserCsv(text: string): UserCsvRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_quotes: true,
    }) as unknown as typeof records;
  } catch (err) {
    const e = err as Error & { lines?: number; code?: string };
    const line = typeof e.lines === 'number' ? e.lines : 1;
    throw DirectoryError.atLine(line, 'INVALID_INPUT', describeCsvError(e));
  }
  const header = records[0];
  if (!header)
    throw new DirectoryError('INVALID_INPUT', 'the CSV is empty (expected a header row: ext,password[,name,email])');
  const index = readHeader(header.record, header.info.lines);
  if (records.length - 1 > MAX_IMPORT_ROWS) {
    throw new DirectoryError(
      'INVALID_INPUT',
      `too many rows: ${records.length - 1} (at most ${MAX_IMPORT_ROWS} per import)`,
    );
  }

  const seenExt = new Map<string, number>();
  const seenEmail = new Map<string, number>();
  const rows: UserCsvRow[] = [];
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    const field = (c: Column) => {
      const i = index.get(c);
      return i === undefined ? undefined : record[i];
    };
    let row: UserCsvRow;
    try {
      row = {
        line,
        ext: v.ext(field('ext') ?? ''),
        password: v.password(field('password') ?? ''),
        name: v.name(field('name')),
        email: v.email(field('email')),
      };
    } catch (err) {
      if (err instanceof DirectoryError) throw DirectoryError.atLine(line, err.code, err.message);
      throw err;
    }
    const extLine = seenExt.get(row.ext);
    if (extLine !== undefined) {
      throw DirectoryError.atLine(
        line,
        'DUPLICATE_EXTENSION',
        `duplicate extension ${row.ext} (also on line ${extLine})`,
      );
    }
    seenExt.set(row.ext, line);
    if (row.email !== undefined) {
      const emailLine = seenEmail.get(row.email);
      if (emailLine !== undefined) {
        throw DirectoryError.atLine(
          line,
          'DUPLICATE_EMAIL',
          `duplicate email ${row.email} (also on line ${emailLine})`,
        );
      }
      seenEmail.set(row.email, line);
    }
    rows.push(row);
  }
  return rows;
}

function readHeader(names: string[], line: number): Map<Column, number> {
  const index = new Map<Column, number>();
  names.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (!(COLUMNS as readonly string[]).includes(name)) {
      throw DirectoryError.atLine(
        line,
        'INVALID_INPUT',
        `unknown column "${raw.trim()}" (expected ext,password[,name,email])`,
      );
    }
    if (index.has(name as Column)) throw DirectoryError.atLine(line, 'INVALID_INPUT', `column "${name}" appears twice`);
    index.set(name as Column, i);
  });
  for (const required of ['ext', 'password'] as const) {
    if (!index.has(required)) {
      throw DirectoryError.atLine(
        line,
        'INVALID_INPUT',
        `the header has no "${required}" column (expected ext,password[,name,email])`,
      );
    }
  }
  return index;
}

function describeCsvError(e: Error & { code?: string }): string {
  switch (e.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return 'wrong number of fields (every row needs one value per header column)';
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is not closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'unexpected character after a closing quote';
    default:
      return e.message.replace(/\s+/g, ' ');
  }
}
