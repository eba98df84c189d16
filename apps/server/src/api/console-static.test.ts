import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConsoleStatic } from './console-static.js';
import { registerWebphoneStatic } from './webphone-routes.js';

describe('the device console at /console/ beside the web phone at /', () => {
  let app: FastifyInstance;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'console-static-'));
    for (const [name, title] of [
      ['webphone', 'Phone'],
      ['console', 'Console'],
    ] as const) {
      await mkdir(join(dir, name, 'assets'), { recursive: true });
      await writeFile(join(dir, name, 'index.html'), `<!doctype html><title>${title}</title>`);
      await writeFile(join(dir, name, 'assets', `${name}-1.js`), `/* ${name} */`);
    }
    app = Fastify();
    await registerWebphoneStatic(app, { root: join(dir, 'webphone') });
    expect(await registerConsoleStatic(app, { root: join(dir, 'console') })).toBe(true);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves its page, its files and its own routes; the web phone keeps /', async () => {
    const page = await app.inject({ url: '/console/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>Console</title>');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect((await app.inject({ url: '/console/devices?x=1' })).body).toContain('<title>Console</title>');
    const js = await app.inject({ url: '/console/assets/console-1.js' });
    expect(js.statusCode).toBe(200);
    expect(js.body).toBe('/* console */');
    const bare = await app.inject({ url: '/console' });
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/console/');
    expect((await app.inject({ url: '/' })).body).toContain('<title>Phone</title>');
    expect((await app.inject({ url: '/contacts' })).body).toContain('<title>Phone</title>');
  });

  it('answers a missing console file or a path outside its folder with 404, never the page or the phone', async () => {
    for (const path of ['/console/assets/old-0.js', '/console/missing.css']) {
      const r = await app.inject({ url: path });
      expect(r.statusCode, path).toBe(404);
      expect(r.body).not.toContain('<title>');
    }
    for (const path of [
      '/console/../webphone/index.html',
      '/console/%2e%2e/%2e%2e/etc/passwd',
      '/console/..%2f..%2fetc%2fpasswd',
    ]) {
      const r = await app.inject({ url: path });
      expect(r.body, path).not.toMatch(/root:.*:0:0:/);
      expect(r.body, path).not.toContain('/* webphone */');
    }
  });

  it('does nothing without a build', async () => {
    const bare = Fastify();
    expect(await registerConsoleStatic(bare, { root: join(dir, 'nothing-here') })).toBe(false);
    await bare.close();
  });
});
