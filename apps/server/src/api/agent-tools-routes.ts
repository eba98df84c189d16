import { ACTION_NAMES, FIELD_TYPES, FIELD_VALIDATIONS, type FormField } from '@handset/agent-actions';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { agentAccess } from '../agent/agent-access.js';
import type { ActionRunner } from '../agent/action-runner.js';
import type { ButtonService } from '../agent/button-service.js';
import type { FormService } from '../agent/form-service.js';
import { MAX_SCRIPT_SOURCE, type ScriptService } from '../agent/script-service.js';
import { principalOf } from './api-auth.js';
import { ERROR_RESPONSES as errors } from './api-errors.js';
import { domainIdField, idParams } from './api-schemas.js';

/** What the button, form and script routes use. */
export interface AgentToolsRoutesOptions {
  buttons: ButtonService;
  forms: FormService;
  scripts: ScriptService;
  runner: ActionRunner;
}

const iso = z.string().describe('ISO 8601 date-time');
const ref = z.uuid().nullable();
const shortText = (max: number) => z.string().trim().max(max);
const domainQuery = z.object({ domainId: z.uuid().optional() });

const buttonFields = {
  label: z.string().trim().min(1).max(60),
  icon: shortText(40).nullable().describe('a Font Awesome icon name, e.g. copy'),
  tooltip: shortText(200).nullable(),
  type: z
    .enum(['primary', 'secondary', 'success', 'danger', 'warning', 'info', 'light', 'dark'])
    .describe('colour / theme'),
  placement: z.enum(['agent']).describe('where the button shows: the Agent page'),
  min_select: z.number().int().min(0).max(1000),
  max_select: z.number().int().min(0).max(1000).describe('0: no selection needed'),
  sandbox_id: ref.describe('the script to run'),
  fn: z
    .string()
    .max(4000)
    .nullable()
    .describe(
      `an action written as a function (${ACTION_NAMES.join(', ')}), e.g. makeCall(alt_phone), or the name of the script function to run`,
    ),
  form_id: ref.describe('the form to open (wins over openForm in fn)'),
  sort_order: z.number().int().min(-1_000_000).max(1_000_000),
};
const buttonView = z
  .object({
    id: z.string(),
    domainId: z.string(),
    ...buttonFields,
    type: z.string(),
    placement: z.string(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'AgentButton' });
const newButton = z.strictObject({
  ...buttonFields,
  icon: buttonFields.icon.default(null),
  tooltip: buttonFields.tooltip.default(null),
  type: buttonFields.type.default('primary'),
  placement: buttonFields.placement.default('agent'),
  min_select: buttonFields.min_select.default(0),
  max_select: buttonFields.max_select.default(0),
  sandbox_id: buttonFields.sandbox_id.default(null),
  fn: buttonFields.fn.default(null),
  form_id: buttonFields.form_id.default(null),
  sort_order: buttonFields.sort_order.default(0),
  domainId: domainIdField,
});

const scalar = z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]);
const fieldShape = {
  type: z.enum(FIELD_TYPES),
  name: z.string().max(64),
  label: z.string().max(200).optional(),
  required: z.boolean().optional(),
  disabled: z.boolean().optional(),
  hidden: z.boolean().optional(),
  multiline: z.boolean().optional(),
  defaultValue: scalar.optional(),
  validation: z.enum(FIELD_VALIDATIONS).optional(),
  regex: z.string().max(300).optional(),
  width: z.number().int().min(1).max(12).optional(),
  select_enable: z.boolean().optional(),
  options: z
    .array(z.object({ label: z.string().max(200), value: z.string().max(200) }))
    .max(500)
    .optional(),
  collapse: z.boolean().optional(),
  scriptforge_change: z.boolean().optional(),
};
const field = z.strictObject(fieldShape).meta({ id: 'FormField' });
/** A field as answered: a script's formSchema may carry keys of its own, passed through. */
const fieldOut = z.looseObject(fieldShape);
const formView = z
  .object({
    id: z.string(),
    domainId: z.string(),
    name: z.string(),
    fields: z.array(field),
    sandbox_id: z.string().nullable(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'AgentForm' });
const newForm = z.strictObject({
  name: z.string().trim().min(1).max(100),
  fields: z.array(field).max(100),
  sandbox_id: ref.optional().describe('the script a submission runs'),
  domainId: domainIdField,
});

const scriptView = z
  .object({
    id: z.string(),
    domainId: z.string(),
    name: z.string(),
    version: z.number().int(),
    source: z.string(),
    versions: z.array(z.object({ version: z.number().int(), createdAt: iso })),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'AgentScript' });
const source = z
  .string()
  .max(MAX_SCRIPT_SOURCE)
  .describe('JavaScript defining main(input), which returns { __: {...} }');
const scriptRun = z
  .union([
    z.object({ ok: z.literal(true), value: z.unknown(), logs: z.array(z.string()), durationMs: z.number() }),
    z.object({
      ok: z.literal(false),
      kind: z.enum(['timeout', 'memory', 'exception', 'garbage', 'busy', 'crashed']),
      message: z.string(),
      logs: z.array(z.string()),
      durationMs: z.number(),
    }),
  ])
  .meta({ id: 'ScriptRun' });
const fnName = z
  .string()
  .regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/, 'a function name')
  .optional();

const action = z.object({ name: z.enum(ACTION_NAMES), params: z.array(z.string()) });
const stepView = z
  .object({
    action: action.nullable(),
    form: z
      .object({ id: z.string(), name: z.string(), fields: z.array(fieldOut), data: z.record(z.string(), z.unknown()) })
      .nullable(),
    redirect: z.object({ url: z.string(), external: z.boolean(), target: z.string() }).nullable(),
    script: z.object({ name: z.string(), logs: z.array(z.string()), durationMs: z.number() }).nullable(),
    __: z
      .object({
        action: action.optional(),
        formSchema: z.array(fieldOut.partial()).optional(),
        formData: z.record(z.string(), z.unknown()).optional(),
      })
      .nullable()
      .describe("the script's __ namespace as checked"),
  })
  .meta({ id: 'AgentStep' });
const context = {
  selected: z.array(z.string().max(200)).max(1000).optional(),
  call: z.record(z.string().max(64), z.union([z.string().max(500), z.number(), z.boolean(), z.null()])).optional(),
};

/**
 * `/api/v1/agent/buttons`, `/agent/forms`, `/agent/scripts`: owners and admins manage them; agents
 * list buttons and forms of their domain, click (`POST /agent/buttons/:id/run`) and submit
 * (`POST /agent/forms/:id/submit`). Scripts are for managers only, with a test console.
 */
export function registerAgentToolsRoutes(v1: FastifyInstance, o: AgentToolsRoutesOptions): void {
  const r = v1.withTypeProvider<ZodTypeProvider>();
  const tags = ['agent tools'];
  const domainOf = (req: { query: { domainId?: string | undefined } }, p: ReturnType<typeof principalOf>) =>
    agentAccess.domainFor(p, req.query.domainId);

  r.get(
    '/agent/buttons',
    {
      schema: {
        tags,
        summary: 'Buttons of the domain, in sort order (agents too)',
        querystring: domainQuery.extend({ placement: z.enum(['agent']).optional() }),
        response: { 200: z.array(buttonView), ...errors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return o.buttons.list(p, domainOf(req, p), req.query.placement);
    },
  );
  r.post(
    '/agent/buttons',
    { schema: { tags, summary: 'Create a button', body: newButton, response: { 201: buttonView, ...errors } } },
    async (req, reply) => {
      const p = principalOf(req);
      const { domainId, ...input } = req.body;
      return reply.status(201).send(await o.buttons.create(p, agentAccess.domainFor(p, domainId), input));
    },
  );
  r.get(
    '/agent/buttons/:id',
    { schema: { tags, summary: 'One button', params: idParams, response: { 200: buttonView, ...errors } } },
    async (req) => o.buttons.get(principalOf(req), req.params.id),
  );
  r.patch(
    '/agent/buttons/:id',
    {
      schema: {
        tags,
        summary: 'Change a button',
        params: idParams,
        body: z.strictObject(buttonFields).partial(),
        response: { 200: buttonView, ...errors },
      },
    },
    async (req) => o.buttons.update(principalOf(req), req.params.id, req.body),
  );
  r.delete(
    '/agent/buttons/:id',
    { schema: { tags, summary: 'Delete a button', params: idParams, response: { 204: z.null(), ...errors } } },
    async (req, reply) => {
      await o.buttons.delete(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  r.post(
    '/agent/buttons/:id/run',
    {
      schema: {
        tags,
        summary: 'Click a button: the action to run (and the form to open), after its script if it has one',
        description:
          'fn gives the action (form_id wins over openForm); with a script, its answer shapes the form to open (formSchema, formData) or, without a form, names the action. A failing script answers 422 SCRIPT_FAILED with the reason.',
        params: idParams,
        body: z.strictObject(context).nullish(),
        response: { 200: stepView, ...errors },
      },
    },
    async (req) => o.runner.runButton(principalOf(req), req.params.id, req.body ?? {}),
  );

  r.get(
    '/agent/forms',
    {
      schema: {
        tags,
        summary: 'Forms of the domain (agents too)',
        querystring: domainQuery,
        response: { 200: z.array(formView), ...errors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return o.forms.list(p, domainOf(req, p));
    },
  );
  r.post(
    '/agent/forms',
    { schema: { tags, summary: 'Create a form', body: newForm, response: { 201: formView, ...errors } } },
    async (req, reply) => {
      const p = principalOf(req);
      const { domainId, ...input } = req.body;
      return reply.status(201).send(
        await o.forms.create(p, agentAccess.domainFor(p, domainId), {
          ...input,
          fields: input.fields,
        }),
      );
    },
  );
  r.get(
    '/agent/forms/:id',
    { schema: { tags, summary: 'One form', params: idParams, response: { 200: formView, ...errors } } },
    async (req) => o.forms.get(principalOf(req), req.params.id),
  );
  r.patch(
    '/agent/forms/:id',
    {
      schema: {
        tags,
        summary: 'Change a form',
        params: idParams,
        body: newForm.omit({ domainId: true }).partial(),
        response: { 200: formView, ...errors },
      },
    },
    async (req) =>
      o.forms.update(
        principalOf(req),
        req.params.id,
        req.body as Partial<{ name: string; fields: FormField[]; sandbox_id: string | null }>,
      ),
  );
  r.delete(
    '/agent/forms/:id',
    { schema: { tags, summary: 'Delete a form', params: idParams, response: { 204: z.null(), ...errors } } },
    async (req, reply) => {
      await o.forms.delete(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  r.post(
    '/agent/forms/:id/submit',
    {
      schema: {
        tags,
        summary:
          'Submit a form: checked against its schema, kept with the lead held, then its script answers the next action',
        params: idParams,
        body: z.strictObject({
          data: z.record(z.string().max(64), z.unknown()),
          buttonId: z
            .string()
            .max(100)
            .optional()
            .describe('the button that opened it (its script runs when the form has none)'),
          leadId: z.string().max(100).optional(),
          ...context,
        }),
        response: { 200: stepView.extend({ submissionId: z.string() }), ...errors },
      },
    },
    async (req) => o.runner.submitForm(principalOf(req), req.params.id, req.body),
  );

  r.get(
    '/agent/scripts',
    {
      schema: {
        tags,
        summary: 'Scripts of the domain (managers)',
        querystring: domainQuery,
        response: { 200: z.array(scriptView), ...errors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return o.scripts.list(p, domainOf(req, p));
    },
  );
  r.post(
    '/agent/scripts',
    {
      schema: {
        tags,
        summary: 'Create a script (version 1)',
        body: z.strictObject({ name: z.string().trim().min(1).max(100), source, domainId: domainIdField }),
        response: { 201: scriptView, ...errors },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { domainId, ...input } = req.body;
      return reply.status(201).send(await o.scripts.create(p, agentAccess.domainFor(p, domainId), input));
    },
  );
  r.get(
    '/agent/scripts/:id',
    {
      schema: {
        tags,
        summary: 'One script: its current source (or ?version=) and its versions',
        params: idParams,
        querystring: z.object({ version: z.coerce.number().int().min(1).optional() }),
        response: { 200: scriptView, ...errors },
      },
    },
    async (req) => o.scripts.get(principalOf(req), req.params.id, req.query.version),
  );
  r.patch(
    '/agent/scripts/:id',
    {
      schema: {
        tags,
        summary: 'Rename a script or save a new version of its source',
        params: idParams,
        body: z.strictObject({ name: z.string().trim().min(1).max(100).optional(), source: source.optional() }),
        response: { 200: scriptView, ...errors },
      },
    },
    async (req) => o.scripts.update(principalOf(req), req.params.id, req.body),
  );
  r.delete(
    '/agent/scripts/:id',
    {
      schema: {
        tags,
        summary: 'Delete a script and its versions',
        params: idParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (req, reply) => {
      await o.scripts.delete(principalOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  r.post(
    '/agent/scripts/:id/test',
    {
      schema: {
        tags,
        summary: 'Test console: run a saved script (latest, or version) with sample input',
        params: idParams,
        body: z.strictObject({ input: z.unknown(), fn: fnName, version: z.number().int().min(1).optional() }),
        response: { 200: scriptRun, ...errors },
      },
    },
    async (req) => o.scripts.test(principalOf(req), req.params.id, req.body.input, req.body),
  );
  r.post(
    '/agent/scripts/test',
    {
      schema: {
        tags,
        summary: 'Test console: run unsaved source with sample input',
        body: z.strictObject({ source, input: z.unknown(), fn: fnName, domainId: domainIdField }),
        response: { 200: scriptRun, ...errors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return o.scripts.testSource(
        p,
        agentAccess.domainFor(p, req.body.domainId),
        req.body.source,
        req.body.input,
        req.body.fn,
      );
    },
  );
}
