/**
 * The routes served outside the `/api/v1` scope that generates the OpenAPI document (softphone
 * provisioning, ICE servers, the events WebSocket, health and metrics), described by hand so that
 * `/api/v1/openapi.json` and `/api/docs` cover every route a client can call.
 */
type Json = Record<string, unknown>;

const error = { $ref: '#/components/schemas/HandsetError' };
const errors = (...codes: number[]): Json =>
  Object.fromEntries(
    codes.map((c) => [String(c), { description: 'an error', content: { 'application/json': { schema: error } } }]),
  );
const json = (schema: Json, description = 'OK'): Json => ({ description, content: { 'application/json': { schema } } });
const uuidParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const domainIdQuery = {
  name: 'domainId',
  in: 'query',
  required: false,
  schema: { type: 'string', format: 'uuid' },
  description: 'a superadmin names the domain; others see their own',
};
const device: Json = {
  type: 'object',
  description: 'an activated softphone app and its lines',
  additionalProperties: true,
  properties: { id: { type: 'string', format: 'uuid' }, enabled: { type: 'boolean' } },
};
const code: Json = {
  type: 'object',
  additionalProperties: true,
  properties: {
    ext: { type: 'string' },
    domain: { type: 'string' },
    qrText: { type: 'string', description: 'the text of the QR code the app scans' },
    expiresAt: { type: 'string', format: 'date-time' },
    windowsLink: { type: ['string', 'null'] },
    png: { type: 'string', description: 'the QR image as a data: URL' },
    svg: { type: 'string' },
  },
};

/** Path items by path, in OpenAPI 3.1 form. */
export const UNDECLARED_PATHS: Record<string, Json> = {
  '/api/v1/provisioning/extensions': {
    get: {
      tags: ['provisioning'],
      summary: 'Extensions the caller may activate a softphone for, with their activation counts',
      parameters: [domainIdQuery],
      responses: {
        '200': json({ type: 'object', properties: { extensions: { type: 'array', items: { type: 'object' } } } }),
        ...errors(401, 403),
      },
    },
  },
  '/api/v1/provisioning/codes': {
    post: {
      tags: ['provisioning'],
      summary: 'Create an activation code (QR) for an extension',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              required: ['ext'],
              properties: { ext: { type: 'string', maxLength: 64 }, domain: { type: 'string', maxLength: 253 } },
            },
          },
        },
      },
      responses: { '201': json(code, 'the code'), ...errors(400, 401, 403, 404, 409, 422) },
    },
  },
  '/api/v1/provisioning/devices': {
    get: {
      tags: ['provisioning'],
      summary: 'Activated apps of the domain',
      parameters: [domainIdQuery],
      responses: {
        '200': json({ type: 'object', properties: { devices: { type: 'array', items: device } } }),
        ...errors(401, 403),
      },
    },
  },
  '/api/v1/provisioning/devices/{id}': {
    get: {
      tags: ['provisioning'],
      summary: 'One activated app',
      parameters: [uuidParam],
      responses: { '200': json(device), ...errors(401, 404) },
    },
    patch: {
      tags: ['provisioning'],
      summary: 'Enable or disable an app, or force it to re-provision (`jsonMd5: null`)',
      parameters: [uuidParam],
      requestBody: {
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              properties: { enabled: { type: 'boolean' }, jsonMd5: { type: 'null' } },
            },
          },
        },
      },
      responses: { '200': json(device), ...errors(400, 401, 404, 422) },
    },
    delete: {
      tags: ['provisioning'],
      summary: 'Forget an app',
      parameters: [uuidParam],
      responses: { '204': { description: 'deleted' }, ...errors(401, 404) },
    },
  },
  '/api/v1/provisioning/devices/{id}/lines': {
    post: {
      tags: ['provisioning'],
      summary: 'Add a line (another extension) to an app',
      parameters: [uuidParam],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              required: ['ext'],
              properties: { ext: { type: 'string', maxLength: 64 }, transport: { enum: ['udp', 'tcp', 'tls'] } },
            },
          },
        },
      },
      responses: { '201': json(device), ...errors(400, 401, 404, 409, 422) },
    },
  },
  '/app/sessiontalk/provision': {
    get: {
      tags: ['provisioning'],
      summary: 'SessionTalk app provisioning (called by the app or SessionCloud, rate limited per address)',
      security: [],
      parameters: [
        { name: 'username', in: 'query', required: true, schema: { type: 'string' }, description: 'ext@domain' },
        {
          name: 'password',
          in: 'query',
          required: true,
          schema: { type: 'string' },
          description: 'the activation token',
        },
        { name: 'deviceId', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'reprovision', in: 'query', required: false, schema: { enum: ['true', 'false', ''] } },
      ],
      responses: {
        '200': { description: 'the account, in the SessionTalk format (see docs/provisioning.md)' },
        '400': { description: 'malformed request' },
        '403': { description: 'refused (expired, used, disabled)' },
        '429': { description: 'too many requests from this address' },
      },
    },
  },
  '/api/v1/webrtc/ice-servers': {
    get: {
      tags: ['webrtc'],
      summary: 'STUN/TURN servers for an RTCPeerConnection, with short-lived TURN credentials',
      responses: {
        '200': json({
          type: 'object',
          properties: {
            iceServers: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  urls: { type: 'array', items: { type: 'string' } },
                  username: { type: 'string' },
                  credential: { type: 'string' },
                },
              },
            },
            ttlS: { type: 'integer' },
          },
        }),
        ...errors(401),
      },
    },
  },
  '/api/v1/events': {
    get: {
      tags: ['events'],
      summary: 'WebSocket of live platform events the caller may see (registrations, calls, CDRs, directory changes)',
      description:
        'Upgrade to a WebSocket (`Connection: Upgrade`, `Upgrade: websocket`) with the token in `Authorization: Bearer`, a `token` header or the `token` query parameter. Each message is one JSON event `{type, domainId, at, ...}`.',
      parameters: [{ name: 'token', in: 'query', required: false, schema: { type: 'string' } }],
      responses: { '101': { description: 'switching to the WebSocket protocol' }, ...errors(401) },
    },
  },
  '/healthz': {
    get: {
      tags: ['operations'],
      summary: 'Health: version, uptime, database, registrations, active calls, SIP ports',
      security: [],
      responses: {
        '200': json({ type: 'object', properties: { status: { const: 'ok' } }, additionalProperties: true }),
      },
    },
  },
  '/metrics': {
    get: {
      tags: ['operations'],
      summary: 'Prometheus metrics (loopback, HANDSET_METRICS_ALLOW, or the bearer token HANDSET_METRICS_TOKEN)',
      responses: { '200': { description: 'Prometheus text exposition format' }, ...errors(401, 403) },
    },
  },
};

/** Tags of the paths above. */
const EXTRA_TAGS = [
  { name: 'provisioning', description: 'softphone activation codes, activated apps, the SessionTalk endpoint' },
  { name: 'webrtc', description: 'ICE servers for browsers' },
  { name: 'events', description: 'the live event stream (WebSocket)' },
  { name: 'operations', description: 'health and metrics' },
];

/** The generated document with the undeclared paths, their tags and the shared error schema added. */
export function withUndeclaredPaths<T>(doc: T): T {
  const d = doc as Json & { paths?: Json; tags?: Json[]; components?: Json & { schemas?: Json } };
  d.paths = { ...(d.paths ?? {}), ...UNDECLARED_PATHS };
  d.tags = [...(d.tags ?? []), ...EXTRA_TAGS];
  d.components = {
    ...(d.components ?? {}),
    schemas: {
      ...(d.components?.schemas ?? {}),
      HandsetError: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string' },
              message: { type: 'string' },
              fields: { type: 'object', additionalProperties: { type: 'string' } },
            },
          },
        },
      },
    },
  };
  return doc;
}
