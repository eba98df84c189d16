import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where the device console is served. */
export const CONSOLE_PREFIX = '/console';

/**
 * Serves the built device console (apps/console/dist) at `/console/`: its files as they are,
 * index.html for any other GET under it (the console's own routes), and `/console` redirected to
 * `/console/`. Does nothing when the build is missing, so a server without it still starts (and
 * `/console/...` then answers 404, never the web phone).
 */
export async function registerConsoleStatic(app: FastifyInstance, o: { root: string }): Promise<boolean> {
  const indexFile = join(o.root, 'index.html');
  if (!existsSync(indexFile)) return false;
  const index = await readFile(indexFile, 'utf8');
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: o.root,
      prefix: `${CONSOLE_PREFIX}/`,
      // The web phone's registration decorates the reply already.
      decorateReply: false,
      wildcard: false,
      index: false,
      cacheControl: false,
      setHeaders: (res, path) => {
        res.setHeader('cache-control', /index\.html$/.test(path) ? 'no-cache' : 'public, max-age=3600');
        res.setHeader('x-content-type-options', 'nosniff');
      },
    });
    const page = (reply: {
      header(k: string, v: string): unknown;
      type(t: string): unknown;
      send(b: string): unknown;
    }) => {
      reply.header('cache-control', 'no-cache');
      reply.header('x-content-type-options', 'nosniff');
      reply.type('text/html; charset=utf-8');
      return reply.send(index);
    };
    scope.get(CONSOLE_PREFIX, (_req, reply) => reply.redirect(`${CONSOLE_PREFIX}/`, 301));
    scope.get(`${CONSOLE_PREFIX}/`, (_req, reply) => page(reply));
    scope.get(`${CONSOLE_PREFIX}/*`, (req, reply) => {
      const path = req.url.split('?')[0] ?? '';
      // A missing file (say, an old hashed bundle) is a 404, not the page.
      if (/\.[a-z0-9]{1,8}$/i.test(path))
        return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route GET ${path.slice(0, 200)}` } });
      return page(reply);
    });
  });
  return true;
}
