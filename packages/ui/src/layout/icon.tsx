/** A 24x24 line icon from one SVG path (no icon font: every platform draws it the same). */
export function Icon(p: { path: string; size?: number }) {
  const size = p.size ?? 22;
  return (
    <svg viewBox="0 0 24 24" width={size} height={size} aria-hidden="true">
      <path
        d={p.path}
        fill="none"
        stroke="currentColor"
        stroke-width="2"
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}
