import { AgentActionError } from './agent-action-error.js';
import { clip } from './actions.js';

/** Field types a form may hold. */
export const FIELD_TYPES = ['text', 'textarea', 'number', 'email', 'tel', 'url', 'date', 'checkbox', 'select'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Named checks of `validation` (besides `regex`, which applies whenever it is set). */
export const FIELD_VALIDATIONS = ['', 'email', 'number', 'integer', 'phone', 'url', 'regex'] as const;
export type FieldValidation = (typeof FIELD_VALIDATIONS)[number];

/** One choice of a select field. */
export interface FieldOption {
  label: string;
  value: string;
}

/** One form field, in the seed's shape (`select_enable`, `collapse`, `scriptforge_change` kept as given). */
// A type, not an interface, so that records of it fit index-signature types (JSON views).
export type FormField = {
  type: FieldType;
  name: string;
  label?: string;
  required?: boolean;
  disabled?: boolean;
  hidden?: boolean;
  multiline?: boolean;
  defaultValue?: string | number | boolean | null;
  validation?: FieldValidation;
  regex?: string;
  /** Grid columns out of 12. */
  width?: number;
  select_enable?: boolean;
  options?: FieldOption[];
  collapse?: boolean;
  scriptforge_change?: boolean;
};

/** Limits of a form. */
export const FORM_LIMITS = { fields: 100, nameLength: 64, regexLength: 300, valueLength: 10_000, options: 500 };

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * A pattern whose matching time can blow up (a quantified group that itself holds a quantifier,
 * as in `(a+)+` or `(\w*)*`): refused, because the server checks submitted values against it.
 */
function catastrophic(re: string): boolean {
  return /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d+,\d*\})/.test(re);
}

/** Compiles a field's `regex` (whole-value match), or throws BAD_SCHEMA. */
export function compileFieldRegex(re: string): RegExp {
  if (re.length > FORM_LIMITS.regexLength) throw new AgentActionError('BAD_SCHEMA', 'regex is too long');
  if (catastrophic(re))
    throw new AgentActionError('BAD_SCHEMA', `regex "${clip(re)}" nests quantifiers (too slow to check)`);
  try {
    return new RegExp(`^(?:${re})$`, 'u');
  } catch {
    throw new AgentActionError('BAD_SCHEMA', `regex "${clip(re)}" is not a valid regular expression`);
  }
}

/**
 * Checks a whole form schema: known types and validations, unique field names, options on
 * select fields, regexes that compile and are quick to match. Throws BAD_SCHEMA naming the field.
 */
export function checkFormFields(fields: readonly FormField[]): void {
  if (fields.length > FORM_LIMITS.fields)
    throw new AgentActionError('BAD_SCHEMA', `at most ${FORM_LIMITS.fields} fields`);
  const seen = new Set<string>();
  for (const f of fields) {
    const at = `field "${clip(String(f.name))}"`;
    if (typeof f.name !== 'string' || !FIELD_NAME.test(f.name))
      throw new AgentActionError(
        'BAD_SCHEMA',
        `${at}: a name is a letter or _ then letters, digits, _ . - (64 at most)`,
      );
    if (seen.has(f.name)) throw new AgentActionError('BAD_SCHEMA', `${at} appears twice`);
    seen.add(f.name);
    if (!(FIELD_TYPES as readonly string[]).includes(f.type))
      throw new AgentActionError('BAD_SCHEMA', `${at}: type must be one of ${FIELD_TYPES.join(', ')}`);
    if (f.validation !== undefined && !(FIELD_VALIDATIONS as readonly string[]).includes(f.validation))
      throw new AgentActionError(
        'BAD_SCHEMA',
        `${at}: validation must be one of ${FIELD_VALIDATIONS.filter(Boolean).join(', ')}`,
      );
    if (f.regex) compileFieldRegex(f.regex);
    else if (f.validation === 'regex')
      throw new AgentActionError('BAD_SCHEMA', `${at}: validation regex needs a regex`);
    if (isSelect(f) && (!f.options || f.options.length === 0))
      throw new AgentActionError('BAD_SCHEMA', `${at}: a select field needs options`);
    if (f.options && f.options.length > FORM_LIMITS.options)
      throw new AgentActionError('BAD_SCHEMA', `${at}: at most ${FORM_LIMITS.options} options`);
    if (f.width !== undefined && (!Number.isInteger(f.width) || f.width < 1 || f.width > 12))
      throw new AgentActionError('BAD_SCHEMA', `${at}: width is 1 to 12 columns`);
  }
}

/** True when the field offers a choice among its options. */
export function isSelect(f: Pick<FormField, 'type' | 'select_enable'>): boolean {
  return f.type === 'select' || f.select_enable === true;
}

/**
 * Applies a script's `__.formSchema` to an open form: an entry naming an existing field updates
 * its settings, any other entry is appended as a new field (type `text` unless it says). The
 * result is checked like a stored schema.
 */
export function mergeFormSchema(fields: readonly FormField[], patch: ReadonlyArray<Partial<FormField>>): FormField[] {
  const out = fields.map((f) => ({ ...f }));
  for (const p of patch) {
    if (typeof p.name !== 'string') throw new AgentActionError('BAD_SCHEMA', 'every formSchema entry needs a name');
    const i = out.findIndex((f) => f.name === p.name);
    if (i >= 0) out[i] = { ...out[i]!, ...p };
    else out.push({ type: 'text', ...p } as FormField);
  }
  checkFormFields(out);
  return out;
}

/** A submitted form, checked: the values kept, and a message per bad field. */
export interface FormCheck {
  values: Record<string, string | number | boolean | null>;
  errors: Record<string, string>;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{1,63}$/;
const PHONE = /^\+?[0-9 ()*#.-]{1,32}$/;

/**
 * Checks submitted values against the fields (what the page checks before sending, and the server
 * again on receipt): required fields present, types, validations, regexes, select values among
 * the options. Disabled fields keep their default (a page cannot change them); fields the form
 * does not know are dropped.
 */
export function checkFormData(fields: readonly FormField[], data: Record<string, unknown>): FormCheck {
  const values: FormCheck['values'] = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const raw = f.disabled
      ? f.defaultValue
      : Object.prototype.hasOwnProperty.call(data, f.name)
        ? data[f.name]
        : undefined;
    const label = f.label || f.name;
    const empty = raw === undefined || raw === null || raw === '' || (f.type === 'checkbox' && raw === false);
    if (empty) {
      if (f.required && !f.disabled) errors[f.name] = `${label} is required`;
      values[f.name] = f.type === 'checkbox' ? false : null;
      continue;
    }
    if (f.type === 'checkbox') {
      if (typeof raw !== 'boolean' && raw !== 'true' && raw !== 'false') errors[f.name] = `${label} is true or false`;
      else values[f.name] = raw === true || raw === 'true';
      continue;
    }
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      errors[f.name] = `${label} must be text`;
      continue;
    }
    const text = String(raw);
    if (text.length > FORM_LIMITS.valueLength) {
      errors[f.name] = `${label} is too long`;
      continue;
    }
    const bad = fieldError(f, text);
    if (bad) errors[f.name] = `${label} ${bad}`;
    else values[f.name] = f.type === 'number' ? Number(text) : text;
  }
  return { values, errors };
}

function fieldError(f: FormField, text: string): string | undefined {
  const kind =
    f.validation ||
    (f.type === 'tel' ? 'phone' : f.type === 'url' || f.type === 'email' || f.type === 'number' ? f.type : '');
  if (isSelect(f) && f.options && !f.options.some((o) => o.value === text)) return 'is not one of the choices';
  if ((kind === 'number' || kind === 'integer') && (text.trim() === '' || !Number.isFinite(Number(text))))
    return 'must be a number';
  if (kind === 'integer' && !Number.isInteger(Number(text))) return 'must be a whole number';
  if (kind === 'email' && !EMAIL.test(text)) return 'must be an e-mail address';
  if (kind === 'phone' && !PHONE.test(text)) return 'must be a phone number';
  if (kind === 'url' && !/^https?:\/\/[^\s]+$/i.test(text)) return 'must be an http(s) URL';
  if (f.type === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(text)) return 'must be a date (YYYY-MM-DD)';
  if (f.regex && !compileFieldRegex(f.regex).test(text)) return 'is not in the expected format';
  return undefined;
}
