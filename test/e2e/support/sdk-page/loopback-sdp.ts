/** Keeps only loopback ICE candidates, so media between two pages stays on 127.0.0.1 (as in jssip-page). */
export function loopbackOnly(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') || ['127.0.0.1', '::1'].includes(l.split(' ')[4] ?? ''))
    .join('\r\n');
}
