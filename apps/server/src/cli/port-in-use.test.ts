import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config/server-config.js';
import { explainAddressInUse, isAddressInUse } from './port-in-use.js';

let held: Server | undefined;
afterEach(() => new Promise<void>((r) => (held ? held.close(() => r()) : r())));

const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8080'), {
  code: 'EADDRINUSE',
});

describe('a port already in use', () => {
  it('is recognised by code, by message (the native UDP socket) and through a cause', () => {
    expect(isAddressInUse(inUse)).toBe(true);
    expect(isAddressInUse(new Error('bind: Address already in use'))).toBe(true);
    expect(isAddressInUse(new Error('cannot start', { cause: inUse }))).toBe(true);
    expect(isAddressInUse(new Error('permission denied'))).toBe(false);
    expect(isAddressInUse('EADDRINUSE')).toBe(false);
  });

  it('is named in one line: the port, the variable that sets it and another Handset', async () => {
    held = createServer();
    await new Promise<void>((r) => held!.listen(0, '127.0.0.1', () => r()));
    const port = (held.address() as { port: number }).port;
    const config = loadServerConfig({
      HANDSET_BIND: '127.0.0.1',
      HANDSET_SIP_PORT: '0',
      HANDSET_HTTP_PORT: String(port),
    });
    const line = await explainAddressInUse(inUse, config);
    expect(line).toContain(`port ${port}/tcp`);
    expect(line).toContain('HANDSET_HTTP_PORT');
    expect(line).toContain('another Handset');
    expect(line).not.toContain('\n');
  });

  it('leaves other failures alone', async () => {
    const config = loadServerConfig({ HANDSET_BIND: '127.0.0.1' });
    expect(await explainAddressInUse(new Error('disk full'), config)).toBeUndefined();
  });
});
