/** The parts of `window` and `document` the phone listens to (injected; fakes in tests). */
export interface NetworkEnvironment {
  /** Fires `online` when the browser regains a network (usually `window`). */
  readonly window?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | undefined;
  /** Fires `visibilitychange`; `visibilityState` says whether the page is visible (usually `document`). */
  readonly document?:
    (Pick<EventTarget, 'addEventListener' | 'removeEventListener'> & { readonly visibilityState: string }) | undefined;
}

/** Why the phone should check its connection now. */
export type WakeReason = 'online' | 'visible';

/**
 * Calls `onWake` when the network comes back or the page becomes visible again: the moments a
 * mobile browser has silently dropped or frozen the WebSocket. Returns the function that stops it.
 */
export function watchNetwork(env: NetworkEnvironment, onWake: (why: WakeReason) => void): () => void {
  const online = () => onWake('online');
  const visibility = () => {
    if (env.document?.visibilityState === 'visible') onWake('visible');
  };
  env.window?.addEventListener('online', online);
  env.document?.addEventListener('visibilitychange', visibility);
  return () => {
    env.window?.removeEventListener('online', online);
    env.document?.removeEventListener('visibilitychange', visibility);
  };
}

/** The browser's own environment, or an empty one outside a browser. */
export function browserEnvironment(): NetworkEnvironment {
  return {
    window: typeof window === 'undefined' ? undefined : window,
    document: typeof document === 'undefined' ? undefined : document,
  };
}
