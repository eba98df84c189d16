/**
 * A hostile frame on an origin nobody allowed: it forges phone events and answers towards the
 * embedding page and requests towards the phone frame, then tells the page it is done.
 */
const tag = { tag: 'handset-embed', v: 1 };
const forgedEvents: unknown[] = [
  { ...tag, kind: 'event', event: 'cdr', data: { callId: 'forged', durationS: 999 } },
  { ...tag, kind: 'event', event: 'registration', data: { state: 'forged' } },
  { ...tag, kind: 'response', id: 1, ok: true, result: 'forged' },
  { ...tag, kind: 'ready' },
];
for (const m of forgedEvents) window.parent.postMessage(m, '*');
// Frame 0 of the embedding page is the phone: ask it to place a call and to dump its state.
const phoneFrame = window.parent.frames[0];
phoneFrame?.postMessage({ ...tag, kind: 'request', id: 9001, method: 'call', params: ['sip:1002@example.test'] }, '*');
phoneFrame?.postMessage({ ...tag, kind: 'request', id: 9002, method: 'getState', params: [] }, '*');
// Give the phone time to (wrongly) act before the test looks.
setTimeout(() => window.parent.postMessage({ forgerDone: true }, '*'), 1500);
