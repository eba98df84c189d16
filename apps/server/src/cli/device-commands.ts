/**
 * CLI commands of desk phones and settings, run as the local operator (CLI_PRINCIPAL):
 * `devices add|list|resync` and `settings set|get|list`. Like every admin command they go through
 * POST /internal/admin while a server runs (so its memory and SIP side see the change: check-sync
 * is sent), and open the database themselves otherwise.
 */
import { z } from 'zod';
import { DirectoryError } from '../directory/directory-error.js';
import type { DirectoryServices } from '../directory/directory-services.js';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import type { SettingView } from '../directory/settings-service.js';
import { deskPhoneView } from '../provisioning/desk/desk-phone-service.js';
import type { DeskPhones } from '../provisioning/desk/desk-wiring.js';
import { configFileName } from '../provisioning/desk/desk-vendors.js';
import { CliError } from './cli-error.js';
import { table } from './cli-output.js';

const str = z.string().max(1 << 10);
const optional = str.optional();

/** The command schemas (joined into the admin command union). */
export const deviceCommandSchemas = [
  z.object({
    command: z.literal('devices.add'),
    args: z.object({
      mac: str,
      vendor: str,
      model: optional,
      label: optional,
      domain: optional,
      lines: z.array(z.object({ line: z.number().int(), ext: str })).max(64),
    }),
  }),
  z.object({ command: z.literal('devices.list'), args: z.object({ domain: optional }).default({}) }),
  z.object({ command: z.literal('devices.resync'), args: z.object({ mac: str, reboot: z.boolean().default(false) }) }),
  z.object({
    command: z.literal('settings.set'),
    args: z.object({ key: str, value: z.string().max(8192), domain: optional }),
  }),
  z.object({ command: z.literal('settings.get'), args: z.object({ key: str, domain: optional }) }),
  z.object({ command: z.literal('settings.list'), args: z.object({ domain: optional }).default({}) }),
] as const;

/** One of the commands above. */
export type DeviceCommand = z.infer<(typeof deviceCommandSchemas)[number]>;
/** A desk phone in a result. */
export type DeviceView = ReturnType<typeof deskPhoneView> & { file: string };

/** Results of these commands. */
export type DeviceResult =
  | { kind: 'device'; device: DeviceView }
  | { kind: 'devices'; devices: DeviceView[] }
  | { kind: 'resync'; mac: string; notified: number; running: boolean }
  | { kind: 'setting'; domain: string | undefined; setting: SettingView }
  | { kind: 'settings'; domain: string | undefined; settings: SettingView[] };

const KINDS = new Set(['device', 'devices', 'resync', 'setting', 'settings']);

/** True for a result of {@link executeDeviceCommand}. */
export function isDeviceResult(r: { kind: string }): r is DeviceResult {
  return KINDS.has(r.kind);
}

/** Runs one command. `running`: inside the server (check-sync can be sent). */
export async function executeDeviceCommand(
  ctx: { services?: DirectoryServices | undefined; desk?: DeskPhones | undefined; running: boolean },
  command: DeviceCommand,
): Promise<DeviceResult> {
  const services = ctx.services;
  const desk = ctx.desk;
  if (!services || !desk)
    throw new DirectoryError('INVALID_INPUT', 'devices and settings are not available in this process');
  const view = (d: Parameters<typeof deskPhoneView>[0]): DeviceView => ({
    ...deskPhoneView(d),
    file: configFileName(d.vendor, d.mac),
  });
  const domainId = async (name: string | undefined) => {
    if (name === undefined) return undefined;
    return services.domains.idOf(CLI_PRINCIPAL, name);
  };
  switch (command.command) {
    case 'devices.add': {
      const { lines, ...rest } = command.args;
      const domain = rest.domain ?? lines.map((l) => l.ext.split('@')[1]).find((x) => x !== undefined);
      const d = await desk.service.create(CLI_PRINCIPAL, { ...rest, domain, lines });
      return { kind: 'device', device: view(d) };
    }
    case 'devices.list': {
      const { devices } = await desk.service.search(CLI_PRINCIPAL, {
        domainId: await domainId(command.args.domain),
        limit: 1000,
        offset: 0,
      });
      return { kind: 'devices', devices: devices.map(view) };
    }
    case 'devices.resync': {
      const results = await desk.service.resync(CLI_PRINCIPAL, command.args.mac, { reboot: command.args.reboot });
      return {
        kind: 'resync',
        mac: desk.service.get(CLI_PRINCIPAL, command.args.mac).mac,
        notified: results.length,
        running: ctx.running,
      };
    }
    case 'settings.set': {
      const id = await domainId(command.args.domain);
      const setting = await services.settings.set(
        CLI_PRINCIPAL,
        command.args.key,
        settingValue(command.args.value),
        id,
      );
      if (command.args.key.startsWith('provisioning.')) desk.service.settingsChanged(id);
      return { kind: 'setting', domain: command.args.domain, setting };
    }
    case 'settings.get': {
      const all = await services.settings.list(CLI_PRINCIPAL, await domainId(command.args.domain));
      const setting = all.find((s) => s.key === command.args.key);
      if (!setting) throw new DirectoryError('NOT_FOUND', `unknown setting ${command.args.key.slice(0, 100)}`);
      return { kind: 'setting', domain: command.args.domain, setting };
    }
    case 'settings.list':
      return {
        kind: 'settings',
        domain: command.args.domain,
        settings: await services.settings.list(CLI_PRINCIPAL, await domainId(command.args.domain)),
      };
  }
}

/** A value typed on the command line: `null` removes the override, JSON arrays pass as such. */
function settingValue(raw: string): unknown {
  if (raw === 'null') return null;
  if (raw.startsWith('[')) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

/** Renders a result for the terminal (or JSON). */
export function formatDeviceResult(r: DeviceResult, json: boolean): string {
  if (json) {
    const payload =
      r.kind === 'device'
        ? r.device
        : r.kind === 'devices'
          ? r.devices
          : r.kind === 'setting'
            ? r.setting
            : r.kind === 'settings'
              ? r.settings
              : r;
    return JSON.stringify(payload, null, 2) + '\n';
  }
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  switch (r.kind) {
    case 'device':
      return (
        `added ${r.device.vendor} ${r.device.mac} to ${r.device.domain}` +
        (r.device.lines.length > 0 ? ` (lines ${r.device.lines.map((l) => `${l.line}:${l.ext}`).join(', ')})` : '') +
        `\nfile: /prov/${r.device.file}\nsecret url: /prov/${r.device.secret}/${r.device.file}\n`
      );
    case 'devices':
      if (r.devices.length === 0) return 'no devices\n';
      return table(
        ['MAC', 'VENDOR', 'MODEL', 'FIRMWARE', 'DOMAIN', 'LINES', 'IP', 'LAST CONTACT', 'STATUS'],
        r.devices.map((d) => [
          d.mac,
          d.vendor,
          d.model ?? '',
          d.firmware ?? '',
          d.domain,
          d.lines.map((l) => `${l.line}:${l.ext}`).join(','),
          d.ip ?? '',
          d.lastContactAt ?? 'never',
          d.enabled ? d.status : 'disabled',
        ]),
      );
    case 'resync':
      if (!r.running) return `the server is not running: no check-sync sent to ${r.mac}\n`;
      return `check-sync sent to ${r.notified} registered contact${r.notified === 1 ? '' : 's'} of ${r.mac}\n`;
    case 'setting':
      return `${r.setting.key} = ${show(r.setting.value)} (${r.setting.source}${r.domain ? `, ${r.domain}` : ''})\n`;
    case 'settings':
      return table(
        ['KEY', 'VALUE', 'SOURCE'],
        r.settings.map((s) => [s.key, show(s.value), s.source]),
      );
  }
}

/** Parses `--line 1:1001@acme.example` values. */
export function parseLineOptions(values: readonly string[]): Array<{ line: number; ext: string }> {
  return values.map((v) => {
    const m = /^(\d{1,2}):(.+)$/.exec(v);
    if (!m) throw new CliError('USAGE', `--line expects <n>:<ext>@<domain>, got "${v.slice(0, 100)}"`);
    return { line: Number(m[1]), ext: m[2]! };
  });
}
