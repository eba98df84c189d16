/** SessionTalk's Windows softphone package identity (as published in the Microsoft packaging of the app). */
const BUNDLE_NAME = 'SessionTalkLtd.SessionCloudSoftphone';
const BUNDLE_PUBLISHER =
  'CN=SessionTalk Ltd, OU=R&D, O=SessionTalk Ltd, STREET=2 Cariocca Business Park Sawley Road Miles Platting, STREET=Cariocca Business Park, L=Manchester, PostalCode=M40 8BB, C=GB';

/**
 * The `.appinstaller` document (AppInstaller 2017 schema) that `ms-appinstaller:?source=` points
 * at: it names itself (`Uri`) and the SessionTalk bundle to install.
 */
export function appinstallerDocument(o: { selfUrl: string; bundleUrl: string; bundleVersion: string }): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<AppInstaller xmlns="http://schemas.microsoft.com/appx/appinstaller/2017" Version="1.0.0.0" Uri="${xml(o.selfUrl)}">\n` +
    `  <MainBundle Name="${BUNDLE_NAME}" Version="${xml(o.bundleVersion)}" Publisher="${xml(BUNDLE_PUBLISHER)}" Uri="${xml(o.bundleUrl)}"/>\n` +
    `</AppInstaller>\n`
  );
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
