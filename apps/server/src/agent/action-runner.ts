import {
  AgentActionError,
  checkFormData,
  checkRedirect,
  mergeFormSchema,
  normalizeAction,
  parseButtonFn,
  type AgentAction,
  type FormField,
  type RedirectParams,
} from '@handset/agent-actions';
import { eq } from 'drizzle-orm';
import { DirectoryError } from '../directory/directory-error.js';
import type { Principal } from '../directory/principal.js';
import { domains, users } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { agentAccess as access, type DomainUser } from './agent-access.js';
import { agentFormSubmissions } from './agent-tables.js';
import type { ButtonService } from './button-service.js';
import type { FormRecord, FormService } from './form-service.js';
import type { PreviewDialer } from './preview-dialer.js';
import type { ScriptService } from './script-service.js';

/** The `__` namespace of a script's answer, checked. */
export interface ActionsNamespace {
  action?: AgentAction;
  formSchema?: Array<Partial<FormField>>;
  formData?: Record<string, unknown>;
}

/** What the page does next: one action, and the form to show when that action is openForm. */
export interface AgentStep {
  /** The one action to run (null: nothing to run). */
  action: AgentAction | null;
  /** For openForm: the form with the script's formSchema applied and its data (defaults, then formData). */
  form: { id: string; name: string; fields: FormField[]; data: Record<string, unknown> } | null;
  /** For redirect: the URL, checked against the domain's allowed origins. */
  redirect: RedirectParams | null;
  /** The script that ran, if any: its name, what it logged, how long it took. */
  script: { name: string; logs: string[]; durationMs: number } | null;
  /** The answer's `__` namespace as checked (for pages that manipulate an already open form). */
  __: ActionsNamespace | null;
}

/** What the page sends with a button click or a form submission. */
export interface AgentContext {
  /** Ids of the rows the agent selected (checked against min_select / max_select). */
  selected?: string[] | undefined;
  /** The call on the page, as the page knows it. */
  call?: Record<string, string | number | boolean | null> | undefined;
}

/** Where the allowed redirect origins come from (setting `agent.redirect_origins`). */
export type RedirectOrigins = (domainId: string) => Promise<readonly string[]>;

/**
 * The Procedure of the Dynamic Buttons: a button starts a chain (its `fn`, its form, its script),
 * a submitted form continues it (its script's `__.action`); one action at a time. Scripts are
 * given the button or form, the agent, the lead it holds and the page's call, and answer the
 * `__` namespace, which is checked here: an action of the table, a formSchema that merges into
 * the form, formData; a redirect only to a path of the web phone or an allowed origin.
 */
export class ActionRunner {
  constructor(
    private readonly o: {
      store: Store;
      buttons: ButtonService;
      forms: FormService;
      scripts: ScriptService;
      dialer: PreviewDialer;
      redirectOrigins: RedirectOrigins;
    },
  ) {}

  /** A button was clicked. */
  async runButton(p: Principal, buttonId: string, ctx: AgentContext = {}): Promise<AgentStep> {
    const u = access.domainUser(p);
    const button = await this.o.buttons.get(p, buttonId);
    const selected = ctx.selected ?? [];
    if (button.max_select > 0 && (selected.length < button.min_select || selected.length > button.max_select))
      throw DirectoryError.validation({
        selected: `select ${button.min_select === button.max_select ? button.min_select : `${button.min_select} to ${button.max_select}`} item(s)`,
      });
    // 1. fn gives the action (or names the script function); 1.1 form_id wins over openForm.
    const fn = this.read(() => parseButtonFn(button.fn));
    let action: AgentAction | undefined = fn?.kind === 'action' ? fn.action : undefined;
    let form: FormRecord | undefined;
    if (button.form_id) form = await this.o.forms.find(u.domainId, { id: button.form_id });
    else if (action?.name === 'openForm') form = await this.formNamed(u.domainId, action.params[0]);
    if (form) action = { name: 'openForm', params: [form.name] };

    let ns: ActionsNamespace | undefined;
    let script: AgentStep['script'] = null;
    if (button.sandbox_id) {
      const input = await this.input(
        u,
        { event: 'button', button, form: form ? { id: form.id, name: form.name } : null, selected },
        ctx,
      );
      const out = await this.runScript(u, button.sandbox_id, fn?.kind === 'function' ? fn.name : 'main', input);
      ns = out.ns;
      script = out.script;
      // 2. With a form to open the answer shapes it; 2.1 otherwise the answer starts the action (fn is the fallback).
      if (!form && ns.action) {
        action = ns.action;
        if (action.name === 'openForm') form = await this.formNamed(u.domainId, action.params[0]);
      }
    }
    if (!action)
      throw DirectoryError.validation({
        fn: 'this button does nothing: give it an fn, a form, or a script whose answer names an action',
      });
    return this.step(u, action, form, ns, script);
  }

  /** A form was submitted: its data is checked, kept, and its script (or the button's) answers the next action. */
  async submitForm(
    p: Principal,
    formId: string,
    body: AgentContext & { data: Record<string, unknown>; buttonId?: string | undefined; leadId?: string | undefined },
  ): Promise<AgentStep & { submissionId: string }> {
    const u = access.domainUser(p);
    const form = await this.o.forms.get(p, formId);
    const checked = checkFormData(form.fields, body.data);
    if (Object.keys(checked.errors).length) throw DirectoryError.validation(checked.errors);
    // Fields a script appended to the open form are not in the stored schema: kept as short text.
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(body.data)) {
      if (k in checked.values || Object.keys(extra).length >= 50) continue;
      if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(k)) continue;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') extra[k] = String(v).slice(0, 2000);
    }
    const data = { ...extra, ...checked.values };
    const held = await this.o.dialer.current(u);
    const leadId = body.leadId && held?.lead?.id === body.leadId ? body.leadId : held?.lead?.id;
    const [saved] = await this.o.store.db
      .insert(agentFormSubmissions)
      .values({ formId: form.id, domainId: u.domainId, userId: u.userId, leadId: leadId ?? null, data })
      .returning({ id: agentFormSubmissions.id });
    const button = body.buttonId ? await this.o.buttons.get(p, body.buttonId) : undefined;
    const scriptId = form.sandbox_id ?? button?.sandbox_id ?? null;
    if (!scriptId) return { ...(await this.step(u, undefined, undefined, undefined, null)), submissionId: saved!.id };
    const input = await this.input(
      u,
      {
        event: 'form',
        button: button ?? null,
        form: { id: form.id, name: form.name, data },
        selected: body.selected ?? [],
      },
      body,
    );
    const out = await this.runScript(u, scriptId, 'main', input);
    // 1. If __.action is set, that is the action that runs.
    const action = out.ns.action;
    const next = action?.name === 'openForm' ? await this.formNamed(u.domainId, action.params[0]) : undefined;
    return { ...(await this.step(u, action, next, out.ns, out.script)), submissionId: saved!.id };
  }

  private async step(
    u: DomainUser,
    action: AgentAction | undefined,
    form: FormRecord | undefined,
    ns: ActionsNamespace | undefined,
    script: AgentStep['script'],
  ): Promise<AgentStep> {
    let redirect: RedirectParams | null = null;
    if (action?.name === 'redirect') {
      const origins = await this.o.redirectOrigins(u.domainId);
      redirect = this.read(() => checkRedirect(action.params, origins));
    }
    let view: AgentStep['form'] = null;
    if (form && action?.name === 'openForm') {
      const fields = ns?.formSchema ? this.read(() => mergeFormSchema(form.fields, ns.formSchema!)) : form.fields;
      const data: Record<string, unknown> = {};
      for (const f of fields)
        if (f.defaultValue !== undefined && f.defaultValue !== null) data[f.name] = f.defaultValue;
      for (const [k, v] of Object.entries(ns?.formData ?? {})) if (fields.some((f) => f.name === k)) data[k] = v;
      view = { id: form.id, name: form.name, fields, data };
    }
    return { action: action ?? null, form: view, redirect, script, __: ns ?? null };
  }

  private async runScript(
    u: DomainUser,
    scriptId: string,
    fn: string,
    input: unknown,
  ): Promise<{ ns: ActionsNamespace; script: NonNullable<AgentStep['script']> }> {
    const r = await this.o.scripts.runLatest(u.domainId, scriptId, input, fn);
    if (!r) throw new DirectoryError('SCRIPT_FAILED', 'the script of this button or form was deleted');
    if (!r.run.ok) throw new DirectoryError('SCRIPT_FAILED', `script "${r.name}" failed: ${r.run.message}`);
    try {
      return {
        ns: readNamespace(r.run.value),
        script: { name: r.name, logs: r.run.logs, durationMs: r.run.durationMs },
      };
    } catch (e) {
      if (e instanceof AgentActionError)
        throw new DirectoryError('SCRIPT_FAILED', `script "${r.name}" answered garbage: ${e.message}`);
      throw e;
    }
  }

  /** The script's input: the event, the agent, the lead it holds (and campaign), the page's call. */
  private async input(
    u: DomainUser,
    event: Record<string, unknown>,
    ctx: AgentContext,
  ): Promise<Record<string, unknown>> {
    const [me] = await this.o.store.db
      .select({ ext: users.ext, name: users.name, email: users.email, domain: domains.domain })
      .from(users)
      .innerJoin(domains, eq(domains.id, users.domainId))
      .where(eq(users.id, u.userId));
    const held = await this.o.dialer.current(u);
    return {
      ...event,
      agent: {
        id: u.userId,
        ext: me?.ext ?? null,
        name: me?.name ?? null,
        email: me?.email ?? null,
        domain: me?.domain ?? null,
        role: u.role,
      },
      lead: held?.lead ?? null,
      campaign: held?.campaign ?? null,
      call: ctx.call ?? null,
    };
  }

  private async formNamed(domainId: string, name: string): Promise<FormRecord> {
    const f = await this.o.forms.find(domainId, { name });
    if (!f) throw DirectoryError.validation({ fn: `no form named "${name}" in this domain` });
    return f;
  }

  /** Runs a check of the shared rules; their refusal is a 422 naming the problem. */
  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof AgentActionError)
        throw DirectoryError.validation({ [e.code === 'BAD_SCHEMA' ? 'formSchema' : 'action']: e.message });
      throw e;
    }
  }
}

/** Checks a script's answer: `{__: {action?, formSchema?, formData?}}` (throws AgentActionError). */
export function readNamespace(value: unknown): ActionsNamespace {
  if (typeof value !== 'object' || value === null || !('__' in value))
    throw new AgentActionError(
      'SYNTAX',
      'the answer must be an object with a __ namespace, e.g. { __: { action: { name: "next" } } }',
    );
  const ns = value.__;
  if (typeof ns !== 'object' || ns === null || Array.isArray(ns))
    throw new AgentActionError('SYNTAX', '__ must be an object');
  const o = ns as Record<string, unknown>;
  const out: ActionsNamespace = {};
  if (o.eval !== undefined)
    throw new AgentActionError('NOT_IMPLEMENTED', '__.eval is not implemented on purpose (see docs/agent-tools.md)');
  if (o.action !== undefined && o.action !== null) {
    if (typeof o.action !== 'object') throw new AgentActionError('SYNTAX', '__.action must be {name, params}');
    out.action = normalizeAction(o.action as { name: unknown; params?: unknown });
  }
  if (o.formSchema !== undefined) {
    if (
      !Array.isArray(o.formSchema) ||
      o.formSchema.some((f) => typeof f !== 'object' || f === null || Array.isArray(f))
    )
      throw new AgentActionError('BAD_SCHEMA', '__.formSchema must be a list of fields');
    out.formSchema = o.formSchema as Array<Partial<FormField>>;
  }
  if (o.formData !== undefined) {
    if (typeof o.formData !== 'object' || o.formData === null || Array.isArray(o.formData))
      throw new AgentActionError('SYNTAX', '__.formData must be an object');
    out.formData = o.formData as Record<string, unknown>;
  }
  return out;
}
