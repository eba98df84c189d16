/** What the SDK e2e pages expose as `window.sdk`; shared by the page drivers and the Node-side tests. */

/** One call as the page sees it. */
export interface PageCall {
  readonly id: string;
  readonly callId: string;
  readonly direction: 'incoming' | 'outgoing';
  readonly remoteUri: string;
  readonly state: string;
  readonly video: boolean;
  readonly hold: { local: boolean; remote: boolean };
  readonly end: { by: string; cause: string } | null;
}

/** The page's phone and everything it observed. */
export interface PageInfo {
  readonly registration: string;
  readonly connection: string;
  /** Every call the page has seen, ended ones included, oldest first. */
  readonly calls: PageCall[];
  /** Event log: 'registration:registered', 'incoming:call-1', 'dtmf:5', 'dtmfSent:5', 'reconnected', ... */
  readonly events: string[];
}

/** RTP counters of one call (Handset SDK CallStats, flattened). */
export interface PageStats {
  readonly audioIn: number;
  readonly audioOut: number;
  readonly videoIn: number;
  readonly videoOut: number;
  readonly audioBytesIn: number;
  readonly rttMs: number | null;
  readonly packetLoss: number;
  readonly jitterMs: number;
}

/** `window.sdk` on a phone page. */
export interface SdkDriver {
  start(server: string, uri: string, password: string): Promise<void>;
  call(target: string, video: boolean): Promise<string>;
  answer(id?: string): Promise<void>;
  hangup(id?: string): void;
  hold(id?: string): void;
  unhold(id?: string): void;
  sendDTMF(tones: string, transport: 'rfc4733' | 'info', id?: string): void;
  /** Starts a blind transfer; its outcome shows up as a 'transfer:ok' (or 'transfer:<cause>') event. */
  transfer(target: string, id?: string): void;
  /** Attended transfer: connects the remote party of call `fromId` with that of call `toId`. */
  attendedTransfer(fromId: string, toId: string): void;
  /** Makes call `id` the one in conversation (the others go on hold). */
  swap(id: string): void;
  info(): PageInfo;
  stats(id?: string): Promise<PageStats>;
  /** Fraction of sampled pixels of the remote video that are not black (0 when there is no video). */
  remoteVideoLit(id?: string): Promise<number>;
  /** currentDirection of each transceiver of the call ('sendrecv', 'inactive', ...). */
  directions(id?: string): string[];
  stop(): void;
}

/** `window.parentPage` on the embedding page. */
export interface ParentDriver {
  mount(src: string): Promise<void>;
  configure(server: string, uri: string, password: string): Promise<unknown>;
  register(): Promise<unknown>;
  call(target: string): Promise<{ id: string; state: string }>;
  sendDTMF(tones: string): Promise<void>;
  hangup(): Promise<void>;
  getState(): Promise<{ registration: string; calls: unknown[] }>;
  /** Events the EmbeddedPhone emitted: 'registration:registered', 'call:active', 'cdr:<callId>', ... */
  events(): string[];
  /** Adds an iframe from another origin that forges phone events to this page and requests to the phone. */
  addForger(src: string): Promise<void>;
}
