/** Publishes directory changes (`user.created`, `group.deleted`, ...) on the bus. */
import type { EventBus } from './event-bus.js';
import type { DirectoryEventType } from './platform-event.js';

/** A directory change as the directory emits it. */
export interface DirectoryChange {
  type: string;
  domainId: string | undefined;
  /** The domain's name, when the source knows it. */
  domain?: string | undefined;
  id: string;
}

const DIRECTORY_TYPE = /^(domain|user|group|member|contact|setting|token)\.(created|updated|deleted)$/;

/**
 * Subscribes through `subscribe` (e.g. `(l) => directoryEvents.on('change', l)`) and republishes
 * each change; a change of a type the bus does not know, or without a tenant, is skipped.
 * Returns the function that stops it.
 */
export function bridgeDirectoryEvents(
  subscribe: (listener: (change: DirectoryChange) => void) => () => void,
  bus: Pick<EventBus, 'publish'>,
  clock: () => number = Date.now,
): () => void {
  return subscribe((change) => {
    if (!DIRECTORY_TYPE.test(change.type)) return;
    // A domain's own change is about that domain even when the source leaves domainId empty.
    const domainId = change.domainId ?? (change.type.startsWith('domain.') ? change.id : undefined);
    if (domainId === undefined) return;
    bus.publish({
      type: change.type as DirectoryEventType,
      domain: change.domain?.toLowerCase(),
      domainId,
      at: new Date(clock()).toISOString(),
      payload: { id: change.id },
    });
  });
}
