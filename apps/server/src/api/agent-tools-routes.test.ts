import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentTools, type AgentTools } from '../agent/agent-tools.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { createApiFixture, type Actor, type ApiFixture } from './api-test-helpers.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

interface Step {
  action: { name: string; params: string[] } | null;
  form: { id: string; name: string; fields: Array<Record<string, unknown>>; data: Record<string, unknown> } | null;
  redirect: { url: string; external: boolean; target: string } | null;
  script: { name: string; logs: string[] } | null;
  submissionId?: string;
}
interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

describe.each(testBackends(pgdb))('agent buttons, forms, scripts and actions on %s', (_name, database) => {
  let f: ApiFixture;
  let tools: AgentTools;
  const as = (actor: Actor, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
    f.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${f.tokens[actor]}` },
      ...(body === undefined ? {} : { payload: body as object }),
    });
  const created = async (actor: Actor, url: string, body: unknown): Promise<{ id: string }> => {
    const res = await as(actor, 'POST', url, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  const script = (name: string, source: string) => created('adminA', '/api/v1/agent/scripts', { name, source });
  const err = (res: { json(): unknown }) => (res.json() as ErrorBody).error;

  beforeAll(async () => {
    if (!database) return;
    f = await createApiFixture(database, ({ store, services }) => {
      tools = createAgentTools({ store, services, scriptLimits: { timeoutMs: 500, memoryBytes: 16 << 20 } });
      return [tools.routes];
    });
    const agentExt = ((await as('agentA', 'GET', `/api/v1/users/${f.ids.agentA}`)).json() as { ext: string }).ext;
    const c = await created('adminA', '/api/v1/campaigns', { name: 'Leads', agents: [agentExt] });
    await created('adminA', `/api/v1/campaigns/${c.id}/leads`, [
      { name: 'Ann', phone: '5550001', alt_phone: '5550002' },
    ]);
    expect((await as('agentA', 'POST', '/api/v1/agent/next', {})).statusCode).toBe(200);
    const setting = await as('ownerA', 'PUT', '/api/v1/settings/agent.redirect_origins', {
      value: ['https://crm.example.com'],
    });
    expect(setting.statusCode, setting.body).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await tools?.close();
    await f?.close();
  });

  it.skipIf(!database)(
    'button -> script -> form with the fields the script set; submit -> script -> redirect (The Procedure)',
    async () => {
      const populate = await script(
        'populate',
        `function main(input) {
          console.log('populating for', input.agent.ext, input.event);
          return { __: {
            formSchema: [
              { name: 'first_name', defaultValue: input.lead.name },
              { name: 'notes', required: true },
              { type: 'text', name: 'country', label: 'Country', defaultValue: 'newly inserted field', width: 12 },
            ],
            formData: { notes: 'called ' + input.lead.phone, nope: 'not a field' },
          } };
        }`,
      );
      const after = await script(
        'after submit',
        `function main(input) {
          return { __: { action: { name: 'redirect', params: ['https://crm.example.com/lead/' + encodeURIComponent(input.form.data.first_name), '_blank'] } } };
        }`,
      );
      const form = await created('adminA', '/api/v1/agent/forms', {
        name: 'Feedback Form',
        sandbox_id: after.id,
        fields: [
          { type: 'text', name: 'first_name', label: 'First name', required: true },
          { type: 'text', name: 'notes', multiline: true },
          {
            type: 'select',
            name: 'outcome',
            options: [
              { label: 'Sale', value: 'sale' },
              { label: 'No sale', value: 'no' },
            ],
          },
        ],
      });
      const button = await created('adminA', '/api/v1/agent/buttons', {
        label: 'Agent Populate Form',
        icon: 'copy',
        tooltip: 'Red tooltip',
        type: 'danger',
        fn: "OPENFORM('feedback form')",
        sandbox_id: populate.id,
        sort_order: 50,
      });

      const click = await as('agentA', 'POST', `/api/v1/agent/buttons/${button.id}/run`, {});
      expect(click.statusCode, click.body).toBe(200);
      const step = click.json() as Step;
      expect(step.action).toEqual({ name: 'openForm', params: ['Feedback Form'] });
      expect(step.form?.id).toBe(form.id);
      expect(step.form?.fields.map((x) => x.name)).toEqual(['first_name', 'notes', 'outcome', 'country']);
      expect(step.form?.fields.find((x) => x.name === 'notes')).toMatchObject({ required: true, multiline: true });
      expect(step.form?.data).toEqual({ first_name: 'Ann', country: 'newly inserted field', notes: 'called 5550001' });
      expect(step.script?.logs).toEqual([expect.stringMatching(/^populating for \d+ button$/)]);

      // The server checks the submission again: a bad select value and a missing required field.
      const bad = await as('agentA', 'POST', `/api/v1/agent/forms/${form.id}/submit`, { data: { outcome: 'maybe' } });
      expect(bad.statusCode).toBe(422);
      expect(Object.keys(err(bad).fields ?? {}).sort()).toEqual(['first_name', 'outcome']);

      const submit = await as('agentA', 'POST', `/api/v1/agent/forms/${form.id}/submit`, {
        data: { first_name: 'Ann Lee', notes: 'keen', outcome: 'sale', country: 'FR' },
        buttonId: button.id,
      });
      expect(submit.statusCode, submit.body).toBe(200);
      const next = submit.json() as Step;
      expect(next.action).toEqual({ name: 'redirect', params: ['https://crm.example.com/lead/Ann%20Lee', '_blank'] });
      expect(next.redirect).toEqual({
        url: 'https://crm.example.com/lead/Ann%20Lee',
        external: true,
        target: '_blank',
      });

      // The submission is kept with the lead the agent holds.
      const held = (await as('agentA', 'GET', '/api/v1/agent/lead')).json() as {
        lead: { id: string; campaignId: string };
      };
      const lead = (
        await as('adminA', 'GET', `/api/v1/campaigns/${held.lead.campaignId}/leads/${held.lead.id}`)
      ).json() as {
        forms: Array<{ formId: string; data: Record<string, unknown> }>;
      };
      expect(lead.forms).toEqual([
        {
          formId: form.id,
          data: { first_name: 'Ann Lee', notes: 'keen', outcome: 'sale', country: 'FR' },
          at: expect.any(String) as string,
        },
      ]);
    },
  );

  it.skipIf(!database)(
    'makeCall(alt_phone), save, next: the fn is the action; form_id wins over openForm',
    async () => {
      const call = await created('adminA', '/api/v1/agent/buttons', {
        label: 'Call alt',
        fn: 'makeCall(alt_phone)',
        type: 'success',
      });
      expect(((await as('agentA', 'POST', `/api/v1/agent/buttons/${call.id}/run`)).json() as Step).action).toEqual({
        name: 'makeCall',
        params: ['alt_phone'],
      });
      const save = await created('adminA', '/api/v1/agent/buttons', { label: 'Yes', fn: 'save( "YES" )' });
      expect(((await as('agentA', 'POST', `/api/v1/agent/buttons/${save.id}/run`)).json() as Step).action).toEqual({
        name: 'save',
        params: ['Yes'],
      });
      const other = await created('adminA', '/api/v1/agent/forms', {
        name: 'Other',
        fields: [{ type: 'text', name: 'x' }],
      });
      const wins = await created('adminA', '/api/v1/agent/forms', {
        name: 'Wins',
        fields: [{ type: 'text', name: 'y', defaultValue: 'd' }],
      });
      const b = await created('adminA', '/api/v1/agent/buttons', {
        label: 'Form',
        fn: 'openForm(Other)',
        form_id: wins.id,
      });
      const step = (await as('agentA', 'POST', `/api/v1/agent/buttons/${b.id}/run`)).json() as Step;
      expect(step.action).toEqual({ name: 'openForm', params: ['Wins'] });
      expect(step.form).toMatchObject({ id: wins.id, data: { y: 'd' } });
      void other;
      // A script without fn or form names the action; its function can be named by fn (the seed's "fn": "main").
      const s = await script('say next', 'function decide(input) { return { __: { action: { name: "NEXT" } } } }');
      const n = await created('adminA', '/api/v1/agent/buttons', { label: 'Next', fn: 'decide', sandbox_id: s.id });
      expect(((await as('agentA', 'POST', `/api/v1/agent/buttons/${n.id}/run`)).json() as Step).action).toEqual({
        name: 'next',
        params: [],
      });
      // Buttons list in sort order for the agent.
      const list = (await as('agentA', 'GET', '/api/v1/agent/buttons?placement=agent')).json() as Array<{
        label: string;
        sort_order: number;
      }>;
      expect(list.map((x) => x.sort_order)).toEqual([...list.map((x) => x.sort_order)].sort((a, b2) => a - b2));
    },
  );

  it.skipIf(!database)(
    'a script that loops, throws, allocates or answers garbage gives a clear message and harms nothing',
    async () => {
      const cases: Array<[string, RegExp]> = [
        ['function main() { while (true) {} }', /failed: the script ran longer than its limit of 500 ms/],
        ['function main() { throw new Error("CRM down") }', /failed: Error: CRM down/],
        [
          'function main() { const a = []; for (;;) a.push({ a: a.length, s: "x" + a.length }) }',
          /failed: .*(memory|limit)/,
        ],
        ['function main() { return 42 }', /garbage: the answer must be an object with a __ namespace/],
        [
          'function main() { return { __: { action: { name: "eval", params: ["alert(1)"] } } } }',
          /not implemented on purpose/,
        ],
        ['function main() { return { __: { action: { name: "dance" } } } }', /unknown action "dance"/],
        [
          'function main() { return { __: { action: { name: "save", params: ["perhaps"] } } } }',
          /save takes Yes, No or Unknown/,
        ],
        ['function main() { return { __: { formSchema: "x" } } }', /formSchema must be a list/],
      ];
      for (const [i, [source, message]] of cases.entries()) {
        const s = await script(`bad ${i}`, source);
        const b = await created('adminA', '/api/v1/agent/buttons', { label: `Bad ${i}`, sandbox_id: s.id, fn: 'next' });
        const res = await as('agentA', 'POST', `/api/v1/agent/buttons/${b.id}/run`);
        expect(res.statusCode, res.body).toBe(422);
        expect(err(res).code).toBe('SCRIPT_FAILED');
        expect(err(res).message).toMatch(message);
      }
      const ok = await script('fine', 'function main() { return { __: { action: { name: "toggleMic" } } } }');
      const b = await created('adminA', '/api/v1/agent/buttons', { label: 'Fine', sandbox_id: ok.id });
      expect(((await as('agentA', 'POST', `/api/v1/agent/buttons/${b.id}/run`)).json() as Step).action?.name).toBe(
        'toggleMic',
      );
    },
  );

  it.skipIf(!database)('redirects only to a path of the web phone or an origin the domain allows', async () => {
    for (const [fn, status] of [
      ['redirect(/history)', 200],
      ['redirect(https://crm.example.com/x, _blank)', 200],
      ['redirect(crm.example.com/y, true)', 200],
      ['redirect(https://evil.example/)', 422],
      ["redirect('javascript:alert(1)')", 422],
      ['redirect(www.example.com, true)', 422],
    ] as const) {
      const b = await created('adminA', '/api/v1/agent/buttons', { label: fn.slice(0, 60), fn });
      const res = await as('agentA', 'POST', `/api/v1/agent/buttons/${b.id}/run`);
      expect(res.statusCode, `${fn}: ${res.body}`).toBe(status);
      if (status === 422) expect(err(res).message).toMatch(/refused/);
    }
  });

  it.skipIf(!database)('scripts are versioned, and the test console runs one with sample input', async () => {
    const s = await script('versioned', 'function main(i) { return "v1:" + i.x }');
    const patched = await as('adminA', 'PATCH', `/api/v1/agent/scripts/${s.id}`, {
      source: 'function main(i) { return "v2:" + i.x }',
    });
    expect(patched.json()).toMatchObject({ version: 2, versions: [{ version: 2 }, { version: 1 }] });
    expect(
      ((await as('adminA', 'GET', `/api/v1/agent/scripts/${s.id}?version=1`)).json() as { source: string }).source,
    ).toMatch(/v1/);
    expect(
      (await as('adminA', 'POST', `/api/v1/agent/scripts/${s.id}/test`, { input: { x: 1 } })).json(),
    ).toMatchObject({ ok: true, value: 'v2:1' });
    expect(
      (await as('adminA', 'POST', `/api/v1/agent/scripts/${s.id}/test`, { input: { x: 1 }, version: 1 })).json(),
    ).toMatchObject({
      ok: true,
      value: 'v1:1',
    });
    const loop = await as('adminA', 'POST', '/api/v1/agent/scripts/test', {
      source: 'function main() { for(;;); }',
      input: null,
    });
    expect(loop.statusCode).toBe(200);
    expect(loop.json()).toMatchObject({ ok: false, kind: 'timeout', message: expect.any(String) as string });
    // Saving the same source makes no new version.
    await as('adminA', 'PATCH', `/api/v1/agent/scripts/${s.id}`, { source: 'function main(i) { return "v2:" + i.x }' });
    expect(((await as('adminA', 'GET', `/api/v1/agent/scripts/${s.id}`)).json() as { version: number }).version).toBe(
      2,
    );
  });

  it.skipIf(!database)('rights: agents read buttons and forms; admins manage; nothing crosses domains', async () => {
    const s = await script('rights', 'function main() { return { __: {} } }');
    const form = await created('adminA', '/api/v1/agent/forms', {
      name: 'Rights',
      fields: [{ type: 'text', name: 'a' }],
    });
    const b = await created('adminA', '/api/v1/agent/buttons', { label: 'R', fn: 'next' });
    expect((await as('agentA', 'GET', '/api/v1/agent/buttons')).statusCode).toBe(200);
    expect((await as('agentA', 'GET', `/api/v1/agent/forms/${form.id}`)).statusCode).toBe(200);
    expect((await as('agentA', 'POST', '/api/v1/agent/buttons', { label: 'x' })).statusCode).toBe(403);
    expect((await as('agentA', 'PATCH', `/api/v1/agent/buttons/${b.id}`, { label: 'x' })).statusCode).toBe(403);
    expect((await as('agentA', 'DELETE', `/api/v1/agent/forms/${form.id}`)).statusCode).toBe(403);
    expect((await as('agentA', 'GET', '/api/v1/agent/scripts')).statusCode).toBe(403);
    expect((await as('agentA', 'GET', `/api/v1/agent/scripts/${s.id}`)).statusCode).toBe(403);
    expect((await as('agentA', 'POST', '/api/v1/agent/scripts/test', { source: 'x', input: 1 })).statusCode).toBe(403);
    for (const actor of ['adminB', 'agentB', 'ownerB'] as const) {
      expect((await as(actor, 'GET', `/api/v1/agent/buttons/${b.id}`)).statusCode).toBe(404);
      expect((await as(actor, 'POST', `/api/v1/agent/buttons/${b.id}/run`)).statusCode).toBe(404);
      expect((await as(actor, 'GET', `/api/v1/agent/forms/${form.id}`)).statusCode).toBe(404);
      expect((await as(actor, 'POST', `/api/v1/agent/forms/${form.id}/submit`, { data: {} })).statusCode).toBe(404);
      expect((await as(actor, 'GET', `/api/v1/agent/scripts/${s.id}`)).statusCode).toBe(404);
      expect((await as(actor, 'GET', '/api/v1/agent/buttons')).json()).toEqual([]);
    }
    // B's admin cannot point a button at A's script or form.
    const cross = await as('adminB', 'POST', '/api/v1/agent/buttons', {
      label: 'x',
      sandbox_id: s.id,
      form_id: form.id,
    });
    expect(cross.statusCode).toBe(422);
    expect(Object.keys(err(cross).fields ?? {}).sort()).toEqual(['form_id', 'sandbox_id']);
    expect((await as('root', 'GET', '/api/v1/agent/buttons')).statusCode).toBe(422);
    expect((await as('root', 'GET', `/api/v1/agent/buttons?domainId=${f.domainA}`)).statusCode).toBe(200);
  });

  it.skipIf(!database)('documents the resources in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, object>;
    };
    for (const path of [
      '/api/v1/campaigns',
      '/api/v1/campaigns/{id}/leads',
      '/api/v1/agent/next',
      '/api/v1/agent/leads/{id}/decision',
      '/api/v1/agent/buttons/{id}/run',
      '/api/v1/agent/forms/{id}/submit',
      '/api/v1/agent/scripts/{id}/test',
    ])
      expect(doc.paths, path).toHaveProperty([path]);
  });

  it.skipIf(!database)('refuses malformed fn, schemas and oversized input with clear errors', async () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['/api/v1/agent/buttons', { label: 'x', fn: 'dance()' }, /unknown action/],
      ['/api/v1/agent/buttons', { label: 'x', fn: 'main' }, /needs a sandbox_id/],
      ['/api/v1/agent/buttons', { label: 'x', fn: 'eval' }, /not implemented on purpose/],
      ['/api/v1/agent/buttons', { label: 'x', fn: "openForm('a)" }, /not closed/],
      ['/api/v1/agent/buttons', { label: 'x', fn: 'x'.repeat(5000) }, /fn/],
      ['/api/v1/agent/buttons', { label: 'x', min_select: 5, max_select: 2 }, /min_select/],
      ['/api/v1/agent/buttons', { label: 'x', placement: 'desk' }, /placement/],
      [
        '/api/v1/agent/forms',
        {
          name: 'f',
          fields: [
            { type: 'text', name: 'a' },
            { type: 'text', name: 'a' },
          ],
        },
        /twice/,
      ],
      [
        '/api/v1/agent/forms',
        { name: 'f', fields: [{ type: 'text', name: 'a', regex: '(a+)+' }] },
        /nests quantifiers/,
      ],
      ['/api/v1/agent/forms', { name: 'f', fields: [{ type: 'select', name: 'a' }] }, /options/],
      ['/api/v1/agent/forms', { name: 'f', fields: [{ type: 'script', name: 'a' }] }, /type/],
      ['/api/v1/agent/scripts', { name: 's', source: 'x'.repeat(100_001) }, /source/],
    ];
    for (const [url, body, message] of bad) {
      const res = await as('adminA', 'POST', url, body);
      expect(res.statusCode, `${url} ${JSON.stringify(body).slice(0, 80)}: ${res.body}`).toBe(422);
      expect(err(res).message).toMatch(message);
    }
    const huge = await as('adminA', 'POST', '/api/v1/agent/scripts', { name: 'big', source: 'x'.repeat(300_000) });
    expect(huge.statusCode).toBe(413);
    const f2 = await created('adminA', '/api/v1/agent/forms', {
      name: 'Small',
      fields: [{ type: 'number', name: 'n', validation: 'integer' }],
    });
    const sub = await as('agentA', 'POST', `/api/v1/agent/forms/${f2.id}/submit`, { data: { n: '1.5' } });
    expect(sub.statusCode).toBe(422);
    expect(err(sub).fields).toEqual({ n: 'n must be a whole number' });
    expect((await as('agentA', 'POST', '/api/v1/agent/buttons/not-a-uuid/run')).statusCode).toBe(404);
  });
});
