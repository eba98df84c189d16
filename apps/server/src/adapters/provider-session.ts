/** The provider session of one adapter connection (`/api/v1/adapters`). */
import { PROVISIONING_API, type ProviderServerFrame } from '@handset/device-adapter';
import type { RawData } from 'ws';
import type { Principal } from '../directory/principal.js';
import { AdapterProtocolError } from './adapter-error.js';
import {
  CLOSE_NO_REGISTER,
  CLOSE_REMOVED,
  CLOSE_REPLACED,
  CLOSE_TOKEN_REVOKED,
  hasControlCharacter,
  sendError,
  unknownMt,
  type Peer,
} from './adapter-frames.js';
import type { AdapterGateway } from './adapter-gateway.js';
import type { ProviderLink } from './adapter-service.js';

/** See the file comment. */
export class ProviderSession implements ProviderLink {
  private adapterId: string | undefined;
  private registering = false;
  private readonly registerTimer: NodeJS.Timeout;
  private readonly revalidateTimer: NodeJS.Timeout;

  constructor(
    private readonly gw: AdapterGateway,
    private readonly peer: Peer,
    readonly principal: Principal,
    readonly token: string,
  ) {
    const ws = peer.ws;
    this.registerTimer = setTimeout(() => {
      if (this.adapterId !== undefined) return;
      sendError(ws, 'NOT_REGISTERED', 'send Register first');
      ws.close(CLOSE_NO_REGISTER, 'no Register in time');
    }, gw.options.registerTimeoutMs ?? 10_000);
    this.registerTimer.unref();
    this.revalidateTimer = setInterval(() => void this.revalidate(), gw.options.revalidateMs ?? 60_000);
    this.revalidateTimer.unref();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const frame = gw.frameOf(peer, data, isBinary);
      if (frame) this.handle(frame).catch((err: unknown) => this.fail(err));
    });
    ws.once('close', () => {
      clearTimeout(this.registerTimer);
      clearInterval(this.revalidateTimer);
      if (this.adapterId !== undefined) void gw.service.unregister(this.adapterId, this).catch(() => undefined);
    });
  }

  send(frame: ProviderServerFrame): void {
    if (this.peer.ws.readyState === this.peer.ws.OPEN) this.peer.ws.send(JSON.stringify(frame));
  }

  replaced(): void {
    sendError(this.peer.ws, 'REPLACED', 'another connection registered this adapter');
    this.adapterId = undefined;
    this.peer.ws.close(CLOSE_REPLACED, 'replaced by a newer connection');
  }

  removed(): void {
    sendError(this.peer.ws, 'FORBIDDEN', 'this adapter was deleted in Handset');
    this.adapterId = undefined;
    this.peer.ws.close(CLOSE_REMOVED, 'adapter deleted');
  }

  private async handle(frame: Record<string, unknown>): Promise<void> {
    switch (frame.mt) {
      case 'Register': {
        if (this.adapterId !== undefined || this.registering)
          throw new AdapterProtocolError('BAD_FRAME', 'this session is already registered');
        const api = (frame.apis as Record<string, unknown> | undefined)?.[PROVISIONING_API] as
          { title?: unknown } | undefined;
        const title = typeof api?.title === 'string' ? api.title.trim() : '';
        if (title.length === 0 || title.length > 100 || hasControlCharacter(title))
          throw new AdapterProtocolError(
            'BAD_FRAME',
            `Register needs apis["${PROVISIONING_API}"].title: 1 to 100 printable characters`,
          );
        this.registering = true;
        try {
          const id = await this.gw.service.register(this, title);
          if (this.peer.ws.readyState !== this.peer.ws.OPEN) {
            await this.gw.service.unregister(id, this);
            return;
          }
          this.adapterId = id;
          clearTimeout(this.registerTimer);
          this.send({ mt: 'Registered', id });
          this.gw.service.start(id);
        } finally {
          this.registering = false;
        }
        return;
      }
      case 'ProvisioningPhoneResult': {
        if (this.adapterId === undefined) throw new AdapterProtocolError('NOT_REGISTERED', 'send Register first');
        const { id, result, error } = frame;
        if (typeof id !== 'string' || (result !== 'ok' && result !== 'error'))
          throw new AdapterProtocolError(
            'BAD_FRAME',
            'ProvisioningPhoneResult needs a string id and result "ok" or "error"',
          );
        await this.gw.service.result(
          this.adapterId,
          id,
          result,
          typeof error === 'string' ? error.slice(0, 500) : undefined,
        );
        return;
      }
      default:
        throw unknownMt(frame.mt as string, ['Register', 'ProvisioningPhoneResult']);
    }
  }

  private fail(err: unknown): void {
    if (err instanceof AdapterProtocolError) return sendError(this.peer.ws, err.code, err.message);
    this.gw.logger.error({ err }, 'adapter frame failed');
    sendError(this.peer.ws, 'UNAVAILABLE', 'the frame could not be handled now; try again');
  }

  private async revalidate(): Promise<void> {
    const still = await this.gw.options.auth.authenticateToken(this.token).catch(() => this.principal);
    if (still === undefined) this.peer.ws.close(CLOSE_TOKEN_REVOKED, 'token revoked or expired');
  }
}
