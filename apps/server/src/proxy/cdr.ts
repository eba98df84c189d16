/** How a call attempt ended. */
export type CdrDisposition = 'answered' | 'busy' | 'no-answer' | 'cancelled' | 'failed';

/** Which side ended an answered call (`system`: dialog timeout or shutdown). */
export type CdrHangupBy = 'caller' | 'callee' | 'system';

/** A call detail record: one call attempt, written when the dialog (or the attempt) ends. */
export interface Cdr {
  /** Assigned by the store; absent before insertion. */
  id?: string | undefined;
  callId: string;
  domain: string;
  /** `user@domain` of the calling party. */
  caller: string;
  /** `user@domain` (or dialled URI user) of the called party. */
  callee: string;
  /** User-Agent / contact of the calling device. */
  callerDevice?: string | undefined;
  /** User-Agent / contact of the device that answered. */
  calleeDevice?: string | undefined;
  startedAt: Date;
  answeredAt?: Date | undefined;
  endedAt: Date;
  /** Seconds from INVITE to end (millisecond precision). */
  durationS: number;
  /** Seconds from answer to end; 0 when never answered. */
  billableS: number;
  disposition: CdrDisposition;
  /** Final SIP status of the attempt (200 for answered calls). */
  sipStatus: number;
  sipReason?: string | undefined;
  hangupBy?: CdrHangupBy | undefined;
  /** Cluster: the node (HANDSET_NODE_ID) that handled the call. */
  node?: string | undefined;
}
