/** Route of the .appinstaller document Handset serves for the Windows softphone (one per domain). */
export const APPINSTALLER_ROUTE = '/app/sessiontalk/appinstaller/:domain/sessiontalk.appinstaller';

/**
 * The texts a code is handed out as. SessionTalk's formats: the QR text
 * `scsc:<ext>@<domain>:<token>[:<provider id>]` (no provider id for a white-label app), and the
 * Windows link `ms-appinstaller:?source=<appinstaller URL>&activationUri=scsc:?username=<ext>@<domain>[:<provider id>]%26password=<token>`,
 * whose `%26` keeps the password inside activationUri rather than starting a parameter of its own.
 */
export const activationLinks = {
  /** Path of a domain's .appinstaller document (the domain picks its settings: bundle URL, version). */
  appinstallerPath(domain: string): string {
    return APPINSTALLER_ROUTE.replace(':domain', encodeURIComponent(domain));
  },

  /** The QR text the app's Scan QR button reads. */
  qrText(ext: string, domain: string, token: string, providerId: string): string {
    return `scsc:${ext}@${domain}:${token}${providerId ? `:${providerId}` : ''}`;
  },

  /** The Windows softphone installation and activation link. */
  windowsLink(ext: string, domain: string, token: string, providerId: string, appinstallerUrl: string): string {
    const user = `${ext}@${domain}${providerId ? `:${providerId}` : ''}`;
    return `ms-appinstaller:?source=${appinstallerUrl}&activationUri=scsc:?username=${user}%26password=${token}`;
  },

  /** Splits the `username` the cloud sends (`<ext>@<domain>`); undefined when it is not that shape. */
  parseUsername(username: string): { ext: string; domain: string } | undefined {
    const at = username.lastIndexOf('@');
    if (at <= 0 || at === username.length - 1) return undefined;
    const ext = username.slice(0, at);
    const domain = username.slice(at + 1).toLowerCase();
    if (!/^[A-Za-z0-9._+*#-]{1,64}$/.test(ext)) return undefined;
    if (domain.length > 253 || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain))
      return undefined;
    return { ext, domain };
  },
};
