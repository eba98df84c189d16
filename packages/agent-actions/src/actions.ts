import { AgentActionError } from './agent-action-error.js';

/**
 * The actions an agent button, a `fn` or a script may start (the Dynamic Buttons "Actions"
 * table). `eval` is deliberately absent: see {@link NOT_IMPLEMENTED_ACTIONS}.
 */
export const ACTION_NAMES = [
  'answerCall',
  'endCall',
  'makeCall',
  'openForm',
  'redirect',
  'toggleMic',
  'save',
  'next',
] as const;

/** One action name, in its canonical spelling. */
export type ActionName = (typeof ACTION_NAMES)[number];

/**
 * Names that are recognised and refused. `eval` would run script text in the agent's page with the
 * agent's session: whoever can write a button or a script could then act as every agent who clicks
 * it (read their calls, their token, other tenants' pages they have open). Server-side scripts
 * (run in a sandbox) cover what it was meant for.
 */
export const NOT_IMPLEMENTED_ACTIONS = ['eval'] as const;

/** Which lead number `makeCall` dials: `phone` (the default), `alt_phone`, or `phone_code` + `phone`. */
export const CALL_TARGETS = ['phone', 'alt_phone', 'phone_code'] as const;
export type CallTarget = (typeof CALL_TARGETS)[number];

/** Decisions `save` records on a lead. */
export const DECISIONS = ['Yes', 'No', 'Unknown'] as const;
export type Decision = (typeof DECISIONS)[number];

/** Where `redirect` opens its URL. */
export const REDIRECT_TARGETS = ['_blank', '_self', '_parent', '_top'] as const;
export type RedirectTarget = (typeof REDIRECT_TARGETS)[number];

/** An action with its parameters checked and spelled canonically. */
export type AgentAction =
  | { name: 'answerCall' | 'endCall' | 'toggleMic' | 'next'; params: [] }
  | { name: 'makeCall'; params: [CallTarget] | [] }
  | { name: 'openForm'; params: [string] }
  | {
      name: 'redirect';
      params: [url: string] | [url: string, isExternalLinkOrTarget: string] | [string, string, string];
    }
  | { name: 'save'; params: [Decision] };

/** A `redirect` action's parameters, read. */
export interface RedirectParams {
  url: string;
  /** True when the URL leaves the web phone (an absolute URL, or `isExternalLink` said so). */
  external: boolean;
  target: RedirectTarget;
}

const BY_LOWER = new Map<string, ActionName>(ACTION_NAMES.map((n) => [n.toLowerCase(), n]));

/** The canonical name of an action, case-insensitively; undefined when there is none. */
export function actionName(name: string): ActionName | undefined {
  return BY_LOWER.get(name.trim().toLowerCase());
}

/** Longest parameter accepted (a URL or a form name). */
export const MAX_PARAM_LENGTH = 2000;

/**
 * Checks an action given as `{name, params}` (a parsed `fn`, or a script's `__.action`) and
 * returns it canonically spelled: names and keyword parameters are case-insensitive, booleans
 * and numbers in `params` are read as their text. Throws {@link AgentActionError}.
 */
export function normalizeAction(input: { name: unknown; params?: unknown }): AgentAction {
  if (typeof input.name !== 'string' || input.name.trim() === '')
    throw new AgentActionError('SYNTAX', 'the action has no name');
  const raw = input.name.trim();
  if ((NOT_IMPLEMENTED_ACTIONS as readonly string[]).includes(raw.toLowerCase()))
    throw new AgentActionError(
      'NOT_IMPLEMENTED',
      `${raw} is not implemented on purpose: running script text in the agent's page would act with the agent's session; use a server-side script`,
    );
  const name = actionName(raw);
  if (!name)
    throw new AgentActionError('UNKNOWN_ACTION', `unknown action "${clip(raw)}" (known: ${ACTION_NAMES.join(', ')})`);
  const params = readParams(input.params);
  const arity = (min: number, max: number, usage: string) => {
    if (params.length < min || params.length > max)
      throw new AgentActionError('BAD_PARAMS', `${name} takes ${usage}; got ${params.length} parameter(s)`);
  };
  switch (name) {
    case 'answerCall':
    case 'endCall':
    case 'toggleMic':
    case 'next':
      arity(0, 0, 'no parameters');
      return { name, params: [] };
    case 'makeCall': {
      arity(0, 1, 'one of alt_phone, phone_code (or none: the lead phone)');
      if (params.length === 0) return { name, params: [] };
      const t = params[0]!.toLowerCase();
      if (!(CALL_TARGETS as readonly string[]).includes(t))
        throw new AgentActionError('BAD_PARAMS', `makeCall takes alt_phone or phone_code, not "${clip(params[0]!)}"`);
      return { name, params: [t as CallTarget] };
    }
    case 'openForm':
      arity(1, 1, 'the name of a form');
      if (params[0]!.length === 0 || params[0]!.length > 100)
        throw new AgentActionError('BAD_PARAMS', 'openForm takes a form name of 1 to 100 characters');
      return { name, params: [params[0]!] };
    case 'redirect': {
      arity(1, 3, 'a URL, then optionally isExternalLink (true/false) and a target (_blank)');
      const r = readRedirect(params);
      const out: string[] = [r.url];
      if (params.length >= 2) out.push(...params.slice(1).map((p) => p.toLowerCase()));
      return { name, params: out as [string] };
    }
    case 'save': {
      arity(1, 1, 'Yes, No or Unknown');
      const d = DECISIONS.find((x) => x.toLowerCase() === params[0]!.toLowerCase());
      if (!d) throw new AgentActionError('BAD_PARAMS', `save takes Yes, No or Unknown, not "${clip(params[0]!)}"`);
      return { name, params: [d] };
    }
  }
}

/** Reads a redirect's parameters: `url[, isExternalLink][, target]` (the seed's examples give the target second too). */
export function readRedirect(params: readonly string[]): RedirectParams {
  const url = (params[0] ?? '').trim();
  if (url.length === 0) throw new AgentActionError('BAD_PARAMS', 'redirect needs a URL');
  let external: boolean | undefined;
  let target: RedirectTarget = '_self';
  for (const p of params.slice(1)) {
    const v = p.trim().toLowerCase();
    if ((v === 'true' || v === 'false') && external === undefined && target === '_self') external = v === 'true';
    else if ((REDIRECT_TARGETS as readonly string[]).includes(v)) target = v as RedirectTarget;
    else
      throw new AgentActionError(
        'BAD_PARAMS',
        `redirect: "${clip(p)}" is neither isExternalLink (true/false) nor a target (${REDIRECT_TARGETS.join(', ')})`,
      );
  }
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//');
  return { url, external: external ?? absolute, target };
}

function readParams(params: unknown): string[] {
  if (params === undefined || params === null) return [];
  if (!Array.isArray(params)) throw new AgentActionError('BAD_PARAMS', 'params must be a list');
  if (params.length > 8) throw new AgentActionError('BAD_PARAMS', 'too many parameters');
  return params.map((p) => {
    if (typeof p === 'string') {
      if (p.length > MAX_PARAM_LENGTH) throw new AgentActionError('BAD_PARAMS', 'a parameter is too long');
      return p.trim();
    }
    if (typeof p === 'boolean' || (typeof p === 'number' && Number.isFinite(p))) return String(p);
    throw new AgentActionError('BAD_PARAMS', 'parameters are text, numbers or true/false');
  });
}

/** Shortens a value quoted in a message. */
export function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
