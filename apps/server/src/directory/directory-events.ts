import { TypedEmitter } from '../events/typed-emitter.js';

/** Kinds of directory change. */
export type DirectoryChangeType =
  | 'user.created'
  | 'user.updated'
  | 'user.deleted'
  | 'group.created'
  | 'group.updated'
  | 'group.deleted'
  | 'contact.created'
  | 'contact.updated'
  | 'contact.deleted'
  | 'domain.created'
  | 'domain.updated'
  | 'domain.deleted';

/** One committed change, as the event stream forwards it to the domain's WebSocket clients. */
export interface DirectoryChange {
  type: DirectoryChangeType;
  /** The tenant changed (for domain.* the domain itself). */
  domainId: string;
  /** The domain's name, for listeners keyed by it (the SIP subscriber cache). */
  domain: string;
  /** Id of the record changed. */
  id: string;
}

/** Event map of {@link DirectoryEvents}. */
export type DirectoryEventMap = { change: [DirectoryChange] };

/**
 * Typed emitter of directory changes, fired after the change is committed. A listener that throws
 * cannot undo or fail the change (TypedEmitter isolates listeners).
 */
export class DirectoryEvents extends TypedEmitter<DirectoryEventMap> {
  /** Shorthand for `emit('change', ...)`. */
  changed(change: DirectoryChange): void {
    this.emit('change', change);
  }
}
