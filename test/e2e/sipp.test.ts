import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForCdrs } from './support/cdrs.js';
import { startHandset, type HandsetProcess } from './support/handset.js';
import { hostileCases } from './support/hostile-sip.js';
import { interopEnv } from './support/interop-env.js';
import { extensions, provisionUsers } from './support/provision.js';
import { exchangeTcp, exchangeUdp, optionsProbe } from './support/raw-sip.js';
import { benchPassword, sippCalls, sippRegister } from './support/sipp-runs.js';
import type { SippTransport } from './support/sipp.js';

// SIPp (Debian sip-tester) runs the benchmark scenarios of bench/sip against the built server.
const DOMAIN = 'example.test';

function serverLog(h: HandsetProcess): string {
  return `--- handset output (tail) ---\n${h.output().split('\n').slice(-40).join('\n')}`;
}

interface TransportCase {
  readonly name: string;
  readonly transport: SippTransport;
  readonly registrants: readonly string[];
  readonly callee: string;
  readonly callers: readonly string[];
}

const transports: readonly TransportCase[] = [
  { name: 'UDP', transport: 'u1', registrants: extensions(1000, 50), callee: '9991', callers: extensions(1100, 20) },
  { name: 'TCP', transport: 't1', registrants: extensions(1050, 50), callee: '9992', callers: extensions(1120, 20) },
];

for (const { name, transport, registrants, callee, callers } of transports) {
  describe(`SIPp over ${name}`, () => {
    let h: HandsetProcess;

    beforeAll(async () => {
      h = await startHandset(interopEnv);
      await provisionUsers(h, DOMAIN, [...registrants, ...callers, callee], benchPassword);
    });
    afterAll(async () => {
      await h?.stop();
    });

    it(`${registrants.length} REGISTERs answer the 401 digest challenge and all get 200`, async () => {
      const r = await sippRegister({ port: h.sipPort, domain: DOMAIN }, transport, registrants);
      const why = `${r.describe()}\n${serverLog(h)}`;
      expect(r.failed, why).toBe(0);
      expect(r.successful, why).toBe(registrants.length);
      expect(r.exitCode, why).toBe(0);
    });

    it(`${callers.length} calls authenticated with 407 reach the registered callee, are answered, hung up, and each leaves an answered CDR`, async () => {
      const run = await sippCalls({ port: h.sipPort, domain: DOMAIN }, transport, callee, callers);
      expect(run.register.successful, `callee registration\n${run.register.describe()}\n${serverLog(h)}`).toBe(1);

      const uac = run.uac;
      const uas = run.uas;
      expect(uac && uas).toBeTruthy();
      if (!uac || !uas) return;
      const why = `${uac.describe()}\n--- callee ---\n${uas.describe()}\n${serverLog(h)}`;
      expect(uac.failed, why).toBe(0);
      expect(uac.successful, why).toBe(callers.length);
      expect(uas.failed, why).toBe(0);
      expect(uas.successful, why).toBe(callers.length);

      const cdrs = await waitForCdrs(
        h,
        DOMAIN,
        (c) => c.disposition === 'answered' && c.callee.includes(callee),
        callers.length,
      );
      expect(cdrs).toHaveLength(callers.length);
      expect(new Set(cdrs.map((c) => c.callId)).size).toBe(callers.length);
      const cdrCallers = cdrs.map((c) => callers.find((u) => c.caller.includes(u))).sort();
      expect(cdrCallers).toEqual([...callers].sort());
      for (const c of cdrs) {
        expect(c.sipStatus, JSON.stringify(c)).toBe(200);
        expect(c.domain, JSON.stringify(c)).toBe(DOMAIN);
        expect(c.answeredAt, JSON.stringify(c)).toBeTruthy();
        expect(c.endedAt, JSON.stringify(c)).toBeTruthy();
        expect(Date.parse(c.endedAt ?? '') >= Date.parse(c.answeredAt ?? ''), JSON.stringify(c)).toBe(true);
        expect(c.durationS, JSON.stringify(c)).toBeGreaterThanOrEqual(0);
      }
    });
  });
}

describe('hostile SIP', () => {
  let h: HandsetProcess;
  const probeUsers = extensions(1000, 5);

  beforeAll(async () => {
    h = await startHandset(interopEnv);
    await provisionUsers(h, DOMAIN, probeUsers, benchPassword);
  });
  afterAll(async () => {
    await h?.stop();
  });

  for (const c of hostileCases) {
    for (const transport of c.transports) {
      const label = transport.toUpperCase();
      const allowed = c.allowed === 'any' ? 'any answer' : `${[...c.allowed, 'silence'].join('/')}`;
      it(`over ${label}, ${c.name}: gets ${allowed}, and Handset keeps answering`, async () => {
        const exchange = transport === 'udp' ? exchangeUdp : exchangeTcp;
        const ex = await exchange(h.sipPort, c.build, 1_000);
        if (c.allowed !== 'any') {
          for (const status of ex.statuses) {
            expect(c.allowed, `answered ${status}:\n${ex.received.slice(0, 2_000)}`).toContain(status);
          }
        }
        const probe = await exchange(h.sipPort, optionsProbe(DOMAIN), 3_000);
        expect(h.child.exitCode, serverLog(h)).toBeNull();
        expect(probe.statuses.length, `no answer to OPTIONS over ${label} afterwards\n${serverLog(h)}`).toBeGreaterThan(
          0,
        );
      });
    }
  }

  for (const { name, transport } of transports) {
    it(`after all the hostile input, digest-authenticated REGISTERs over ${name} still get 200`, async () => {
      const r = await sippRegister({ port: h.sipPort, domain: DOMAIN }, transport, probeUsers);
      const why = `${r.describe()}\n${serverLog(h)}`;
      expect(r.failed, why).toBe(0);
      expect(r.successful, why).toBe(probeUsers.length);
    });
  }
});
