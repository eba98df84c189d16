import type * as Sdk from '@handset/sdk';

/** The SDK module (Phone and JsSIP beneath it): the largest part of the web phone's JavaScript. */
export type SdkModule = typeof Sdk;

/**
 * Loads the SDK once, as a chunk of its own: the sign-in screen shows without waiting for it, and
 * main.tsx starts the download at boot, beside the session and configuration requests.
 */
export function sdkLoader(load: () => Promise<SdkModule> = () => import('@handset/sdk')): () => Promise<SdkModule> {
  let pending: Promise<SdkModule> | undefined;
  return () => {
    pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
