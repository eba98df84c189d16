/** Counts live inbound connections per source IP and refuses those above a cap. */
export class ConnectionLimiter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly maxPerIp: number) {}

  /** Takes a slot for `ip`; false when the IP is at its cap (the caller closes the connection). */
  acquire(ip: string): boolean {
    const n = this.counts.get(ip) ?? 0;
    if (n >= this.maxPerIp) return false;
    this.counts.set(ip, n + 1);
    return true;
  }

  /** Gives back a slot taken by acquire. */
  release(ip: string): void {
    const n = this.counts.get(ip);
    if (n === undefined) return;
    if (n <= 1) this.counts.delete(ip);
    else this.counts.set(ip, n - 1);
  }

  /** Live connections from `ip`. */
  count(ip: string): number {
    return this.counts.get(ip) ?? 0;
  }
}
