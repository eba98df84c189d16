import type { AdminResult } from './admin-commands.js';
import { formatDirectoryResult, type DirectoryResult } from './directory-commands.js';
import { formatDeviceResult, isDeviceResult } from './device-commands.js';

/** Renders a command result for the terminal: a sentence or a table, or JSON with `--json`. */
export function formatAdminResult(result: AdminResult, json: boolean): string {
  if (isDirectoryResult(result)) return formatDirectoryResult(result, json) ?? '';
  if (isDeviceResult(result)) return formatDeviceResult(result, json);
  if (json) {
    const payload =
      result.kind === 'activation'
        ? result.activation
        : result.kind === 'domains'
          ? result.domains
          : result.kind === 'users'
            ? result.users
            : result.kind === 'cdrs'
              ? result.cdrs
              : result.kind === 'domain'
                ? result.domain
                : result.kind === 'user'
                  ? result.user
                  : { domain: result.domain, imported: result.imported };
    return JSON.stringify(payload, null, 2) + '\n';
  }
  switch (result.kind) {
    case 'activation':
      return (
        [
          `activation code for ${result.activation.ext}@${result.activation.domain}, expires ${result.activation.expiresAt}`,
          ...(result.activation.windowsLink ? [`windows softphone link: ${result.activation.windowsLink}`] : []),
          // The QR text alone on the last line, for scripts (`| tail -1`).
          result.activation.qrText,
        ].join('\n') + '\n'
      );
    case 'domain':
      return `added domain ${result.domain.domain}\n`;
    case 'user':
      return `added user ${result.user.ext}@${result.user.domain}\n`;
    case 'imported':
      return `imported ${result.imported} user${result.imported === 1 ? '' : 's'} into ${result.domain}\n`;
    case 'domains':
      if (result.domains.length === 0) return 'no domains (add one with: handset domains add <domain>)\n';
      return table(
        ['DOMAIN', 'NAME', 'USERS', 'ACTIVE'],
        result.domains.map((d) => [d.domain, d.name ?? '', String(d.userCount ?? ''), d.active ? 'yes' : 'no']),
      );
    case 'cdrs':
      if (result.cdrs.length === 0) return 'no call records\n';
      return table(
        ['STARTED', 'CALLER', 'CALLEE', 'DISPOSITION', 'STATUS', 'DURATION', 'BILLABLE'],
        result.cdrs.map((c) => [
          c.startedAt,
          c.caller,
          c.callee,
          c.disposition,
          String(c.sipStatus),
          `${c.durationS.toFixed(1)}s`,
          `${c.billableS.toFixed(1)}s`,
        ]),
      );
    case 'users':
      if (result.users.length === 0) return 'no users\n';
      return table(
        ['USER', 'NAME', 'EMAIL', 'ACTIVE'],
        result.users.map((u) => [`${u.ext}@${u.domain}`, u.name ?? '', u.email ?? '', u.active ? 'yes' : 'no']),
      );
  }
}

/** A plain-text table: columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function isDirectoryResult(r: AdminResult): r is DirectoryResult {
  return (
    r.kind === 'group' || r.kind === 'groups' || r.kind === 'token' || r.kind === 'superadmin' || r.kind === 'migrated'
  );
}
