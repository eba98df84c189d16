/**
 * Starts the media plane from the configuration: external rtpengines (HANDSET_RTPENGINE), or
 * a private one when the binary is installed, or none (calls that need it are refused with a
 * clear reason, and one log line says how to install it).
 */
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { MediaConfig } from '../config/server-config.js';
import { MediaPlane } from './media-plane.js';
import { NgClient } from './ng-client.js';
import { RtpengineSet } from './rtpengine-set.js';
import { findExecutable, RtpengineSupervisor } from './rtpengine-supervisor.js';

/** A started media plane and how to stop it. */
export interface RunningMediaPlane {
  plane: MediaPlane;
  /** `embedded` (our private rtpengine), `external`, or `none`. */
  source: 'embedded' | 'external' | 'none';
  close(): Promise<void>;
}

/** Where the addresses come from. */
export interface MediaHost {
  bind: string;
  publicHost: string;
}

/** The local address the private rtpengine binds, and the one it writes into SDP. */
export function rtpAddresses(config: MediaConfig, host: MediaHost): { local: string; advertised: string } {
  const locals = Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined);
  const isLocal = (a: string) => locals.some((i) => i.address === a);
  let local = config.rtpAddress;
  if (local === undefined) {
    if (host.bind !== '0.0.0.0' && host.bind !== '::') local = host.bind;
    else if (isIP(host.publicHost) !== 0 && isLocal(host.publicHost)) local = host.publicHost;
    else local = locals.find((i) => i.family === 'IPv4' && !i.internal)?.address ?? '127.0.0.1';
  }
  const advertised = isIP(host.publicHost) !== 0 ? host.publicHost : local;
  return { local, advertised };
}

/** Starts what the configuration asks for; never throws for a missing rtpengine. */
export async function startMediaPlane(
  config: MediaConfig,
  host: MediaHost,
  logger: Logger,
): Promise<RunningMediaPlane> {
  const none = (reason: string): RunningMediaPlane => ({
    plane: new MediaPlane({ mode: config.anchor, engines: undefined, unavailableReason: reason, logger }),
    source: 'none',
    close: () => Promise.resolve(),
  });
  if (config.anchor === 'never') return none('media anchoring is off (HANDSET_MEDIA_ANCHOR=never)');

  if (config.rtpengines) {
    const clients = config.rtpengines.map((a) => new NgClient({ host: a.host, port: a.port }));
    const engines = new RtpengineSet({ clients, logger });
    const answering = await Promise.all(
      clients.map((c) =>
        c.request('ping').then(
          () => true,
          () => false,
        ),
      ),
    );
    clients.forEach((c, i) => {
      if (!answering[i]) engines.markDown(c);
    });
    logger.info(
      { rtpengines: clients.map((c, i) => `${c.address}${answering[i] ? '' : ' (not answering)'}`) },
      'media plane: external rtpengines',
    );
    return {
      plane: new MediaPlane({ mode: config.anchor, engines, logger }),
      source: 'external',
      close: () => {
        engines.close();
        return Promise.resolve();
      },
    };
  }

  const binary = await findExecutable(config.binary);
  if (!binary) {
    logger.warn(
      `rtpengine is not installed: browser <-> SIP phone calls will be refused (488 "media not possible"); ` +
        `browser-to-browser and phone-to-phone calls work. Install it with "sudo apt-get install rtpengine-daemon" ` +
        `(Debian/Ubuntu) or point HANDSET_RTPENGINE at a running one`,
    );
    return none('media relay (rtpengine) is not installed on the server');
  }
  const { local, advertised } = rtpAddresses(config, host);
  const supervisor = new RtpengineSupervisor({
    binary,
    interfaceAddress: local,
    advertisedAddress: advertised,
    portMin: config.portMin,
    portMax: config.portMax,
    logger,
  });
  try {
    await supervisor.start();
  } catch (err) {
    logger.error({ err }, 'the private rtpengine did not start: browser <-> SIP phone calls will be refused');
    await supervisor.close();
    return none('media relay (rtpengine) failed to start on the server');
  }
  const engines = new RtpengineSet({ clients: [supervisor.ng], logger });
  supervisor.on('exited', () => engines.markDown(supervisor.ng));
  supervisor.on('ready', () => engines.markUp(supervisor.ng));
  logger.info(
    {
      rtpengine: binary,
      pid: supervisor.pid,
      ng: supervisor.ng.address,
      rtp: `${local}!${advertised}`,
      ports: `${config.portMin}-${config.portMax}`,
    },
    'media plane: private rtpengine running',
  );
  return {
    plane: new MediaPlane({ mode: config.anchor, engines, logger }),
    source: 'embedded',
    close: async () => {
      engines.close();
      await supervisor.close();
    },
  };
}
