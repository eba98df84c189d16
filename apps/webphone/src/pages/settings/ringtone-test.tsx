import { useEffect, useRef, useState } from 'preact/hooks';
import { useController, useT } from '../../shell/controller-context.js';

/** Plays the ringtone on the ringer device until pressed again (or the page is left). */
export function RingtoneTest() {
  const c = useController();
  const t = useT();
  const audio = useRef<HTMLAudioElement | undefined>(undefined);
  const [playing, setPlaying] = useState(false);
  const stop = () => {
    audio.current?.pause();
    audio.current = undefined;
    setPlaying(false);
  };
  useEffect(() => () => audio.current?.pause(), []);
  const start = () => {
    const a = new Audio(c.d.ringtoneUrl);
    a.loop = true;
    void c.phone?.devices.attach(a, 'ringer');
    void a.play().catch(() => undefined);
    audio.current = a;
    setPlaying(true);
  };
  return <button onClick={playing ? stop : start}>{t(playing ? 'stopRingtone' : 'testRingtone')}</button>;
}
