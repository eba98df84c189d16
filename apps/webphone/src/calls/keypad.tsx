import { useT } from '../shell/controller-context.js';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;

/** Twelve keys in a group named "Keypad" (the dialpad's, and the DTMF pad during a call). */
export function Keypad(p: { onPress: (key: string) => void }) {
  const t = useT();
  return (
    <div class="keypad" role="group" aria-label={t('keypad')}>
      {KEYS.map((k) => (
        <button class="key" aria-label={k} onClick={() => p.onPress(k)}>
          {k}
        </button>
      ))}
    </div>
  );
}
