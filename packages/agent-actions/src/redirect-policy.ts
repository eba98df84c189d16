import { AgentActionError } from './agent-action-error.js';
import { clip, readRedirect, type RedirectParams } from './actions.js';

/**
 * Where a `redirect` may go. A path inside the web phone (`/history`, `#contacts`) always; an
 * absolute http(s) URL only when its origin is one the domain allows (`https://crm.example.com`);
 * `isExternalLink` turns a bare host (`www.example.com`) into `https://www.example.com`. Other
 * schemes (`javascript:`, `data:`, `file:`) never. Returns the URL to open, or throws
 * REDIRECT_REFUSED.
 */
export function checkRedirect(params: readonly string[], allowedOrigins: readonly string[]): RedirectParams {
  const r = readRedirect(params);
  let url = r.url;
  if (/\s/.test(url) || [...url].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw refused(url, 'it holds spaces or control characters');
  const hasScheme = /^[a-z][a-z0-9+.-]*:/i.test(url);
  if (!hasScheme && !url.startsWith('//')) {
    if (!r.external) {
      if (url.startsWith('/') || url.startsWith('#') || url.startsWith('?')) return { ...r, url, external: false };
      throw refused(url, 'a link inside the web phone starts with / (say isExternalLink true for another site)');
    }
    url = `https://${url}`;
  }
  if (url.startsWith('//')) url = `https:${url}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refused(url, 'it is not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw refused(url, 'only http(s) links are opened');
  if (parsed.username || parsed.password) throw refused(url, 'it carries a user name or password');
  const allowed = new Set(allowedOrigins.map(originOf).filter((o): o is string => o !== undefined));
  if (!allowed.has(parsed.origin))
    throw refused(url, `${parsed.origin} is not among the domain's allowed origins (setting agent.redirect_origins)`);
  return { url: parsed.href, external: true, target: r.target };
}

/** The origin of `https://host[:port][/...]`, or undefined when it is not an http(s) URL. */
export function originOf(s: string): string | undefined {
  try {
    const u = new URL(s.trim());
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

function refused(url: string, why: string): AgentActionError {
  return new AgentActionError('REDIRECT_REFUSED', `redirect to "${clip(url)}" refused: ${why}`);
}
