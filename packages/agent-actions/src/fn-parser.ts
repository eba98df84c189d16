import { AgentActionError } from './agent-action-error.js';
import { type AgentAction, actionName, clip, MAX_PARAM_LENGTH, normalizeAction } from './actions.js';

/** A button's `fn`, read: an action to run, or the name of the script function to call. */
export type ButtonFn = { kind: 'action'; action: AgentAction } | { kind: 'function'; name: string };

/** Longest `fn` accepted. */
export const MAX_FN_LENGTH = 4000;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Splits `name(param, ...)` into a name and raw parameters. Parameters are separated by commas
 * and trimmed; each may be quoted with `'` or `"` (then it may hold commas and parentheses, and
 * `\` escapes the next character) or written bare (`openForm(feedback form)`). `name` and
 * `name()` have no parameters.
 */
export function splitCall(fn: string): { name: string; params: string[] } {
  if (fn.length > MAX_FN_LENGTH) throw new AgentActionError('SYNTAX', `fn is longer than ${MAX_FN_LENGTH} characters`);
  const text = fn.trim();
  const open = text.indexOf('(');
  const name = (open < 0 ? text : text.slice(0, open)).trim();
  if (!IDENT.test(name)) throw new AgentActionError('SYNTAX', `"${clip(text)}" is not name or name(param, ...)`);
  if (open < 0) return { name, params: [] };
  if (!text.endsWith(')')) throw new AgentActionError('SYNTAX', `"${clip(text)}": missing ")" at the end`);
  const inner = text.slice(open + 1, -1);
  if (inner.trim() === '') return { name, params: [] };
  const params: string[] = [];
  let i = 0;
  for (;;) {
    while (i < inner.length && /\s/.test(inner[i]!)) i++;
    let value: string;
    const q = inner[i];
    if (q === '"' || q === "'") {
      i++;
      value = '';
      let closed = false;
      while (i < inner.length) {
        const c = inner[i++]!;
        if (c === '\\' && i < inner.length) value += inner[i++];
        else if (c === q) {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) throw new AgentActionError('SYNTAX', `"${clip(text)}": a quoted parameter is not closed`);
      while (i < inner.length && /\s/.test(inner[i]!)) i++;
      if (i < inner.length && inner[i] !== ',')
        throw new AgentActionError('SYNTAX', `"${clip(text)}": text after a quoted parameter`);
    } else {
      const end = inner.indexOf(',', i);
      value = (end < 0 ? inner.slice(i) : inner.slice(i, end)).trim();
      if (/[()"']/.test(value))
        throw new AgentActionError('SYNTAX', `"${clip(text)}": quote a parameter that holds parentheses or quotes`);
      i = end < 0 ? inner.length : end;
    }
    if (value.length > MAX_PARAM_LENGTH) throw new AgentActionError('SYNTAX', 'a parameter is too long');
    params.push(value);
    if (i >= inner.length) break;
    i++; // the comma
    if (params.length >= 8) throw new AgentActionError('SYNTAX', 'too many parameters');
  }
  return { name, params };
}

/**
 * Reads an action written as a function (`openForm('Feedback Form')`, `SAVE(yes)`,
 * `redirect(https://example.com, _blank)`). Names and keyword parameters are not case sensitive;
 * parameters may be quoted or not. Throws {@link AgentActionError}.
 */
export function parseAction(fn: string): AgentAction {
  return normalizeAction(splitCall(fn));
}

/**
 * Reads a button's `fn`: an action, or (with no parentheses, and not an action's name) the name of
 * the function its script runs, as in the seed's `"fn": "main"`. Empty: undefined.
 */
export function parseButtonFn(fn: string | null | undefined): ButtonFn | undefined {
  if (fn === undefined || fn === null || fn.trim() === '') return undefined;
  const call = splitCall(fn);
  if (!fn.includes('(') && !actionName(call.name) && call.name.toLowerCase() !== 'eval')
    return { kind: 'function', name: call.name };
  return { kind: 'action', action: normalizeAction(call) };
}

/** Writes an action back as `name(param, ...)`, quoting what needs it (the inverse of {@link parseAction}). */
export function formatAction(a: { name: string; params: readonly string[] }): string {
  if (a.params.length === 0) return a.name;
  const quote = (p: string) => (/^[^,()"'\\]*$/.test(p) && p === p.trim() ? p : `'${p.replace(/[\\']/g, '\\$&')}'`);
  return `${a.name}(${a.params.map(quote).join(', ')})`;
}
