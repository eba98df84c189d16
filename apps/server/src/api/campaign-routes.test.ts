import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentTools } from '../agent/agent-tools.js';
import type { Principal } from '../directory/principal.js';
import { cdrs } from '../store/schema.js';
import { createTestDatabase, testBackends } from '../store/test-databases.js';
import { WebphoneUserStateService } from '../webphone/webphone-user-state-service.js';
import { createApiFixture, type Actor, type ApiFixture } from './api-test-helpers.js';

const pgdb = await createTestDatabase();
afterAll(async () => {
  await pgdb?.drop();
});

interface AgentLead {
  lead: {
    id: string;
    name: string | null;
    phone: string;
    alt_phone: string | null;
    status: string;
    decision: string | null;
  } | null;
  campaign: { id: string; name: string } | null;
  expiresAt: string | null;
}

describe.each(testBackends(pgdb))('campaigns and the preview dialer on %s', (_name, database) => {
  let f: ApiFixture;
  let state: WebphoneUserStateService;
  const ext = {} as Record<Actor, string>;
  let agentA2: { token: string; ext: string; id: string };

  const as = (
    actor: Actor | 'agentA2',
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    f.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${actor === 'agentA2' ? agentA2.token : f.tokens[actor]}`, ...headers },
      ...(body === undefined ? {} : typeof body === 'string' ? { payload: body } : { payload: body as object }),
    });
  const principal = (id: string, domainId: string): Principal & { userId: string; domainId: string } => ({
    userId: id,
    domainId,
    role: 'agent',
    email: undefined,
    domain: 'a.example',
    via: 'token',
  });
  const newCampaign = async (name: string, agents: string[], leads: unknown[] = []) => {
    const res = await as('adminA', 'POST', '/api/v1/campaigns', { name, agents });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as { id: string }).id;
    if (leads.length) expect((await as('adminA', 'POST', `/api/v1/campaigns/${id}/leads`, leads)).statusCode).toBe(201);
    return id;
  };

  beforeAll(async () => {
    if (!database) return;
    f = await createApiFixture(database, ({ store, services }) => [createAgentTools({ store, services }).routes]);
    state = new WebphoneUserStateService(f.store, f.services.audit);
    for (const a of Object.keys(f.ids) as Actor[]) {
      if (a === 'root') continue;
      const r = await f.call('root', 'GET', `/api/v1/users/${f.ids[a]}`);
      ext[a] = (r.json() as { ext: string }).ext;
    }
    const u = await f.services.users.create(
      { ...principal('', f.domainA), role: 'superadmin', userId: undefined, domainId: undefined } as never,
      f.domainA,
      {
        ext: '150',
        extPassword: 'sip-agentA2',
        email: 'agenta2@a.example',
        name: 'agentA2',
        password: 'correct horse battery',
        role: 'agent',
      },
    );
    agentA2 = {
      id: u.id,
      ext: '150',
      token: (
        await f.services.tokens.create(
          {
            role: 'superadmin',
            userId: undefined,
            domainId: undefined,
            domain: undefined,
            email: undefined,
            via: 'cli',
          },
          u.id,
          't',
        )
      ).token,
    };
  }, 120_000);
  afterAll(async () => {
    await f?.close();
  });

  it.skipIf(!database)('an agent takes lead 1, calls it, says Yes, goes next and sees lead 2', async () => {
    const id = await newCampaign(
      'Spring',
      [ext.agentA],
      [
        { name: 'Lead One', phone: '+44 (0)20 7946-0001', alt_phone: '1002', company: 'Acme' },
        { name: 'Lead Two', phone: '2002' },
        { name: 'Lead Three', phone: '2003', fields: { score: 7 } },
      ],
    );
    const c = (await as('agentA', 'GET', `/api/v1/campaigns/${id}`)).json() as {
      name: string;
      agents: string[];
      leads: Record<string, number>;
    };
    expect(c).toMatchObject({ name: 'Spring', agents: [ext.agentA], leads: { queued: 3, assigned: 0, done: 0 } });

    expect((await as('agentA', 'GET', '/api/v1/agent/lead')).json()).toEqual({
      lead: null,
      campaign: null,
      expiresAt: null,
    });
    const first = (await as('agentA', 'POST', '/api/v1/agent/next', {})).json() as AgentLead;
    expect(first.lead).toMatchObject({
      name: 'Lead One',
      phone: '+4402079460001',
      alt_phone: '1002',
      status: 'assigned',
    });
    expect(first.campaign?.name).toBe('Spring');
    expect((first.lead as unknown as { fields: object }).fields).toEqual({ company: 'Acme' });
    // A reload shows the same lead.
    expect(((await as('agentA', 'GET', '/api/v1/agent/lead')).json() as AgentLead).lead?.id).toBe(first.lead!.id);

    const leadId = first.lead!.id;
    const call = await as('agentA', 'POST', `/api/v1/agent/leads/${leadId}/calls`, {
      callId: 'call-lead-1@test',
      target: 'alt_phone',
    });
    expect(call.statusCode, call.body).toBe(201);
    expect(call.json()).toEqual({ number: '1002' });
    // The proxy writes the CDR when the call ends; the lead links to it by Call-ID.
    const now = new Date();
    await f.store.db.insert(cdrs).values({
      domain: 'a.example',
      callId: 'call-lead-1@test',
      caller: `${ext.agentA}@a.example`,
      callee: '1002@a.example',
      startedAt: now,
      answeredAt: now,
      endedAt: now,
      durationS: 42,
      billableS: 42,
      disposition: 'answered',
      sipStatus: 200,
    });
    const saved = await as('agentA', 'POST', `/api/v1/agent/leads/${leadId}/decision`, { decision: 'yes' });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json()).toMatchObject({
      status: 'done',
      decision: 'Yes',
      calls: [{ number: '1002', disposition: 'answered', durationS: 42 }],
    });
    // Saving twice is refused: it is no longer held.
    expect((await as('agentA', 'POST', `/api/v1/agent/leads/${leadId}/decision`, { decision: 'No' })).statusCode).toBe(
      409,
    );

    const second = (await as('agentA', 'POST', '/api/v1/agent/next')).json() as AgentLead;
    expect(second.lead?.name).toBe('Lead Two');
    const detail = (await as('adminA', 'GET', `/api/v1/campaigns/${id}/leads/${leadId}`)).json() as {
      decision: string;
      agent: string;
      calls: unknown[];
    };
    expect(detail).toMatchObject({ decision: 'Yes', agent: ext.agentA });
    expect(detail.calls).toHaveLength(1);
    const done = (await as('adminA', 'GET', `/api/v1/campaigns/${id}/leads?decision=Yes`)).json() as {
      totalDocs: number;
    };
    expect(done.totalDocs).toBe(1);
    // Skipping (next without a decision) puts lead 2 at the back: lead 3, then lead 2 again.
    expect(((await as('agentA', 'POST', '/api/v1/agent/next')).json() as AgentLead).lead?.name).toBe('Lead Three');
    expect(((await as('agentA', 'POST', '/api/v1/agent/next')).json() as AgentLead).lead?.name).toBe('Lead Two');
    await as('adminA', 'PATCH', `/api/v1/campaigns/${id}`, { status: 'paused' });
    expect(((await as('agentA', 'POST', '/api/v1/agent/next')).json() as AgentLead).lead).toBeNull();
    await as('adminA', 'DELETE', `/api/v1/campaigns/${id}`);
  });

  it.skipIf(!database)('an agent who is not Available gets no lead', async () => {
    const id = await newCampaign('Away test', [ext.agentA], [{ phone: '3001' }]);
    await state.setAgentState(principal(f.ids.agentA, f.domainA), 'away');
    const res = await as('agentA', 'POST', '/api/v1/agent/next');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'CONFLICT' } });
    expect(res.body).toMatch(/set it to Available/);
    await state.setAgentState(principal(f.ids.agentA, f.domainA), 'available');
    expect(((await as('agentA', 'POST', '/api/v1/agent/next')).json() as AgentLead).lead?.phone).toBe('3001');
    await as('adminA', 'DELETE', `/api/v1/campaigns/${id}`);
  });

  it.skipIf(!database)('a lead with no decision returns to the queue after the timeout', async () => {
    const id = await newCampaign('Timeout', [ext.agentA, agentA2.ext], [{ phone: '4001' }]);
    await as('adminA', 'PATCH', `/api/v1/campaigns/${id}`, { leadTimeoutS: 10 });
    const held = (await as('agentA', 'POST', '/api/v1/agent/next', { campaignId: id })).json() as AgentLead;
    expect(held.lead?.phone).toBe('4001');
    expect(
      ((await as('agentA2', 'POST', '/api/v1/agent/next', { campaignId: id })).json() as AgentLead).lead,
    ).toBeNull();
    // Eleven seconds later (moved back in the database rather than waited for).
    await f.store.db.execute(
      sql`update agent_leads set assigned_at = assigned_at - interval '11 seconds' where campaign_id = ${id}`,
    );
    expect(((await as('agentA', 'GET', '/api/v1/agent/lead')).json() as AgentLead).lead).toBeNull();
    const taken = (await as('agentA2', 'POST', '/api/v1/agent/next', { campaignId: id })).json() as AgentLead;
    expect(taken.lead?.id).toBe(held.lead?.id);
    // The first agent's late decision is refused: the lead is someone else's now.
    expect(
      (await as('agentA', 'POST', `/api/v1/agent/leads/${held.lead!.id}/decision`, { decision: 'Yes' })).statusCode,
    ).toBe(409);
    await as('adminA', 'DELETE', `/api/v1/campaigns/${id}`);
  });

  it.skipIf(!database)(
    '100 concurrent next requests from two agents never hand out the same lead',
    async () => {
      const leads = Array.from({ length: 200 }, (_, i) => ({ name: `L${i}`, phone: String(500000 + i) }));
      const id = await newCampaign('Race', [ext.agentA, agentA2.ext], leads);
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          as(i % 2 ? 'agentA' : 'agentA2', 'POST', '/api/v1/agent/next', { campaignId: id }),
        ),
      );
      for (const r of results) expect(r.statusCode, r.body).toBe(200);
      const handed = results.map((r) => (r.json() as AgentLead).lead!.id);
      // A lead an agent skips goes to the back of a 200-lead queue: no lead can be handed out twice here.
      expect(new Set(handed).size).toBe(100);
      const rows = (await as('adminA', 'GET', `/api/v1/campaigns/${id}/leads?status=assigned`)).json() as {
        docs: Array<{ agent: string; attempts: number }>;
      };
      expect(rows.docs.map((d) => d.agent).sort()).toEqual([ext.agentA, agentA2.ext].sort());
      const all = (await as('adminA', 'GET', `/api/v1/campaigns/${id}/leads?pageSize=1000`)).json() as {
        docs: Array<{ attempts: number }>;
      };
      expect(all.docs.reduce((n, d) => n + d.attempts, 0)).toBe(100);
      await as('adminA', 'DELETE', `/api/v1/campaigns/${id}`);
    },
    90_000,
  );

  it.skipIf(!database)('imports CSV with a header row, all or nothing, naming every bad line', async () => {
    const id = await newCampaign('CSV', [ext.agentA]);
    const csv = 'name,phone,alt_phone,phone_code,city\r\nAnn,+15550001,,1,Paris\n"Bo, Jr",5550002,5559999,,"Ro""me"\n';
    const ok = await as('adminA', 'POST', `/api/v1/campaigns/${id}/leads`, csv, { 'content-type': 'text/csv' });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toEqual({ imported: 2 });
    const list = (await as('adminA', 'GET', `/api/v1/campaigns/${id}/leads`)).json() as {
      docs: Array<Record<string, unknown>>;
    };
    expect(list.docs[1]).toMatchObject({
      name: 'Bo, Jr',
      phone: '5550002',
      alt_phone: '5559999',
      fields: { city: 'Ro"me' },
    });

    const bad = 'name,phone\nGood,123\nNoPhone,\nWord,abc\nAlso good,456\n';
    const res = await as('adminA', 'POST', `/api/v1/campaigns/${id}/leads`, bad, { 'content-type': 'text/csv' });
    expect(res.statusCode).toBe(422);
    expect((res.json() as { error: { fields: object } }).error.fields).toEqual({
      'line 3': 'phone is missing',
      'line 4': 'phone "abc" is not a number',
    });
    expect(
      ((await as('adminA', 'GET', `/api/v1/campaigns/${id}`)).json() as { leads: { queued: number } }).leads.queued,
    ).toBe(2);
    await as('adminA', 'DELETE', `/api/v1/campaigns/${id}`);
  });

  it.skipIf(!database)('answers hostile imports with a clear 4xx and imports nothing', async () => {
    const id = await newCampaign('Hostile', [ext.agentA]);
    const post = (body: unknown, type = 'application/json') =>
      as('adminA', 'POST', `/api/v1/campaigns/${id}/leads`, typeof body === 'string' ? body : JSON.stringify(body), {
        'content-type': type,
      });
    const cases: Array<[unknown, string, number, RegExp]> = [
      ['name,phone\n"unclosed,1\n', 'text/csv', 422, /line/],
      ['city\nParis\n', 'text/csv', 422, /no phone column/],
      ['phone,phone\n1,2\n', 'text/csv', 422, /twice/],
      ['name,phone\nA,1,extra\n', 'text/csv', 422, /line 2/],
      ['', 'text/csv', 422, /empty/],
      [{ phone: '1' }, 'application/json', 422, /JSON array/],
      [[], 'application/json', 422, /no leads/],
      [[{ phone: '1', fields: { __proto__x: 1, constructor: 2 } }], 'application/json', 422, /field name/],
      [[{ phone: '1', fields: { a: { nested: true } } }], 'application/json', 422, /field a/],
      [[{ phone: '1\u00002' }], 'application/json', 422, /not a number/],
      [[{ phone: ['1'] }], 'application/json', 422, /phone must be text/],
      [[{ phone: '1', phone_code: '+44; drop table' }], 'application/json', 422, /phone_code/],
      [Array.from({ length: 50_001 }, () => ({ phone: '1' })), 'application/json', 422, /too many/],
      ['{"phone": ', 'application/json', 400, /JSON/],
      ['phone\n1', 'text/plain', 415, /.*/],
    ];
    for (const [body, type, status, msg] of cases) {
      const res = await post(body, type);
      expect(res.statusCode, `${type} ${String(body).slice(0, 40)}: ${res.body}`).toBe(status);
      expect((res.json() as { error: { message: string } }).error.message).toMatch(msg);
    }
    const notUtf8 = await as(
      'adminA',
      'POST',
      `/api/v1/campaigns/${id}/leads`,
      Buffer.from([0x70, 0x68, 0xff, 0x0a]) as never,
      { 'content-type': 'text/csv' },
    );
    expect(notUtf8.statusCode).toBe(400);
    const huge = await post(`phone\n${'1\n'.repeat(4_500_000)}`, 'text/csv');
    expect(huge.statusCode).toBe(413);
    // Other routes still refuse CSV.
    expect(
      (await as('adminA', 'POST', '/api/v1/campaigns', 'name\nX', { 'content-type': 'text/csv' })).statusCode,
    ).toBe(415);
    expect((await as('adminA', 'POST', '/api/v1/groups', 'name\nX', { 'content-type': 'text/csv' })).statusCode).toBe(
      415,
    );
    expect(
      ((await as('adminA', 'GET', `/api/v1/campaigns/${id}`)).json() as { leads: { queued: number } }).leads.queued,
    ).toBe(0);
    await as('adminA', 'DELETE', `/api/v1/campaigns/${id}`);
  });

  it.skipIf(!database)('rights: agents read only their campaigns and hold leads; nothing crosses domains', async () => {
    const mine = await newCampaign('Mine', [ext.agentA], [{ phone: '7001' }]);
    const other = await newCampaign('Not mine', [agentA2.ext], [{ phone: '7002' }]);
    const names = (
      (await as('agentA', 'GET', '/api/v1/campaigns')).json() as { docs: Array<{ name: string }> }
    ).docs.map((d) => d.name);
    expect(names).toContain('Mine');
    expect(names).not.toContain('Not mine');
    expect((await as('agentA', 'GET', `/api/v1/campaigns/${other}`)).statusCode).toBe(404);
    expect((await as('agentA', 'GET', `/api/v1/campaigns/${mine}/leads`)).statusCode).toBe(403);
    expect((await as('agentA', 'POST', '/api/v1/campaigns', { name: 'x' })).statusCode).toBe(403);
    expect((await as('agentA', 'PATCH', `/api/v1/campaigns/${mine}`, { name: 'x' })).statusCode).toBe(403);
    expect((await as('agentA', 'POST', `/api/v1/campaigns/${mine}/leads`, [{ phone: '1' }])).statusCode).toBe(403);
    for (const actor of ['adminB', 'ownerB', 'agentB'] as const) {
      expect((await as(actor, 'GET', `/api/v1/campaigns/${mine}`)).statusCode).toBe(404);
      expect((await as(actor, 'DELETE', `/api/v1/campaigns/${mine}`)).statusCode).toBe(404);
      expect((await as(actor, 'GET', '/api/v1/campaigns')).json()).toMatchObject({ totalDocs: 0 });
    }
    // An agent of B gets nothing from A's queue, and cannot touch A's leads.
    expect(((await as('agentB', 'POST', '/api/v1/agent/next')).json() as AgentLead).lead).toBeNull();
    expect((await as('agentB', 'POST', '/api/v1/agent/next', { campaignId: mine })).statusCode).toBe(404);
    const held = ((await as('agentA', 'POST', '/api/v1/agent/next', { campaignId: mine })).json() as AgentLead).lead!;
    expect((await as('agentB', 'POST', `/api/v1/agent/leads/${held.id}/decision`, { decision: 'No' })).statusCode).toBe(
      404,
    );
    expect(
      (await as('agentA2', 'POST', `/api/v1/agent/leads/${held.id}/decision`, { decision: 'No' })).statusCode,
    ).toBe(409);
    expect((await as('agentB', 'POST', `/api/v1/agent/leads/${held.id}/calls`, { callId: 'x' })).statusCode).toBe(404);
    // A superadmin has no SIP line: no leads.
    expect((await as('root', 'POST', '/api/v1/agent/next')).statusCode).toBe(403);
    // Unknown members and duplicate names are clear errors.
    const bad = await as('adminA', 'POST', '/api/v1/campaigns', { name: 'X', agents: [ext.agentB] });
    expect(bad.statusCode).toBe(422);
    expect((bad.json() as { error: { fields: { agents: string } } }).error.fields.agents).toMatch(/no user/);
    expect((await as('adminA', 'POST', '/api/v1/campaigns', { name: 'Mine' })).statusCode).toBe(409);
    expect((await as('adminA', 'GET', '/api/v1/campaigns/not-a-uuid')).statusCode).toBe(404);
    expect(
      (await as('adminA', 'POST', '/api/v1/agent/leads/not-a-uuid/decision', { decision: 'Maybe' })).statusCode,
    ).toBe(422);
    await as('adminA', 'DELETE', `/api/v1/campaigns/${mine}`);
    await as('adminA', 'DELETE', `/api/v1/campaigns/${other}`);
  });

  it.skipIf(!database)('group members work a campaign assigned to their group', async () => {
    const g = await as('adminA', 'POST', '/api/v1/groups', { name: 'Sales', ext: '600' });
    expect(g.statusCode, g.body).toBe(201);
    const gid = (g.json() as { id: string }).id;
    expect(
      (await as('adminA', 'PUT' as never, `/api/v1/groups/${gid}/members`, { members: [agentA2.id] })).statusCode,
    ).toBeLessThan(300);
    const res = await as('adminA', 'POST', '/api/v1/campaigns', { name: 'Group', groups: ['600'] });
    expect(res.json()).toMatchObject({ groups: ['600'], agents: [] });
    const id = (res.json() as { id: string }).id;
    await as('adminA', 'POST', `/api/v1/campaigns/${id}/leads`, [{ phone: '8001' }]);
    expect(
      ((await as('agentA2', 'GET', '/api/v1/campaigns')).json() as { docs: Array<{ name: string }> }).docs.map(
        (d) => d.name,
      ),
    ).toContain('Group');
    expect(
      ((await as('agentA2', 'POST', '/api/v1/agent/next', { campaignId: id })).json() as AgentLead).lead?.phone,
    ).toBe('8001');
    expect((await as('agentA', 'POST', '/api/v1/agent/next', { campaignId: id })).statusCode).toBe(404);
    await as('adminA', 'DELETE', `/api/v1/campaigns/${id}`);
  });
});
