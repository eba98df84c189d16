/** What the registrar needs from a location shared by the nodes of a cluster (cluster/shared-location.ts). */
import type { Binding } from './binding.js';

/** How a removal is checked against the shared record. */
export type RemovalCheck =
  /** A REGISTER with this Call-ID and CSeq unbinds (refused when the record is that Call-ID's, with a CSeq not below). */
  | { mode: 'request'; callId: string; cseq: number }
  /** Only the version held here (same Call-ID and CSeq): not one refreshed meanwhile through another node. */
  | { mode: 'exact' }
  /** Only when the shared record itself has expired. */
  | { mode: 'expire' };

/** Writes that the shared record may refuse; the in-memory copy and the events follow what it accepted. */
export interface SharedBindingWriter {
  /** Writes a binding; false when the shared record holds a newer REGISTER of it (RFC 3261 §10.3 step 7). */
  save(binding: Binding): Promise<boolean>;
  /** Removes a binding if the shared record allows it (and emits the event); true when removed. */
  remove(binding: Binding, check: RemovalCheck, reason?: 'unregistered' | 'expired'): Promise<boolean>;
}
