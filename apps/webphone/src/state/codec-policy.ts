/** The domain's codec policy (`webphone.codec_delete` / `webphone.codec_priority`). */
export interface CodecPolicy {
  /** Codec names or /regex/ patterns to remove; Opus is never removed. */
  delete: readonly string[];
  /** Codec names offered first, in this order. */
  priority: readonly string[];
}

/** A pattern as the server stores it: a name, or `/source/flags`. */
function matcher(p: string): (name: string) => boolean {
  const m = /^\/(.+)\/([i]*)$/.exec(p);
  if (m) {
    try {
      const re = new RegExp(m[1] ?? '', m[2] || 'i');
      return (n) => re.test(n);
    } catch {
      return () => false;
    }
  }
  return (n) => n.toLowerCase() === p.toLowerCase();
}

/** Codecs that carry no media of their own: removing them alone is pointless, keep them in order. */
const HELPERS = new Set(['telephone-event', 'cn', 'rtx', 'red', 'ulpfec', 'flexfec-03']);

/**
 * Rewrites each m= section of an SDP: payload types whose codec is deleted go (with their
 * rtpmap/fmtp/rtcp-fb lines and any RTX bound to them), and the rest are reordered so the
 * priority codecs come first (RFC 3264 §5.1: the m-line order is the preference order).
 * Opus is never deleted (WebRTC's mandatory audio codec, RFC 7874). A section left without
 * media codecs keeps its original list rather than becoming unusable.
 */
export function applyCodecPolicy(sdp: string, policy: CodecPolicy): string {
  if (policy.delete.length === 0 && policy.priority.length === 0) return sdp;
  const deleters = policy.delete.map(matcher);
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(eol);
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!line.startsWith('m=')) {
      out.push(line);
      i++;
      continue;
    }
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith('m=')) j++;
    out.push(...rewriteSection(line, lines.slice(i + 1, j), deleters, policy.priority));
    i = j;
  }
  return out.join(eol);
}

function rewriteSection(
  mLine: string,
  body: string[],
  deleters: Array<(n: string) => boolean>,
  priority: readonly string[],
): string[] {
  const parts = mLine.split(' ');
  const pts = parts.slice(3);
  const names = new Map<string, string>();
  const apt = new Map<string, string>();
  for (const l of body) {
    const r = /^a=rtpmap:(\d+) ([^/]+)/.exec(l);
    if (r) names.set(r[1]!, r[2]!);
    const f = /^a=fmtp:(\d+) .*\bapt=(\d+)/.exec(l);
    if (f) apt.set(f[1]!, f[2]!);
  }
  const nameOf = (pt: string) => names.get(pt) ?? '';
  const removed = new Set(
    pts.filter((pt) => {
      const n = nameOf(pt);
      return n.toLowerCase() !== 'opus' && !HELPERS.has(n.toLowerCase()) && deleters.some((d) => d(n));
    }),
  );
  for (const [rtx, base] of apt) if (removed.has(base)) removed.add(rtx);
  let kept = pts.filter((pt) => !removed.has(pt));
  if (!kept.some((pt) => !HELPERS.has(nameOf(pt).toLowerCase()))) kept = pts;
  const rank = (pt: string) => {
    const k = priority.findIndex((p) => p.toLowerCase() === nameOf(pt).toLowerCase());
    return k === -1 ? priority.length : k;
  };
  // Stable sort: codecs not named keep their relative order after the named ones.
  const ordered = kept.map((pt, idx) => ({ pt, idx })).sort((a, b) => rank(a.pt) - rank(b.pt) || a.idx - b.idx);
  const gone = new Set(pts.filter((pt) => !kept.includes(pt)));
  const keepLine = (l: string) => {
    const m = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ ]/.exec(l);
    return !m || !gone.has(m[1]!);
  };
  return [[...parts.slice(0, 3), ...ordered.map((o) => o.pt)].join(' '), ...body.filter(keepLine)];
}
