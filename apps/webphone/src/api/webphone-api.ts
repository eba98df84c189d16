import type { ApiClient } from '@handset/ui';

/** The web phone configuration, as GET /api/v1/webphone/config answers it. */
export interface WebphoneConfig {
  user: { id: string; ext: string; domain: string; name?: string; email?: string; role: string };
  sip: { uri: string; username: string; domain: string; password: string; displayName: string };
  wsUrl: string;
  iceServers: RTCIceServer[];
  config: {
    brandName: string;
    menuItems: MenuItem[];
    flags: {
      hideUuid: boolean;
      menuRight: boolean;
      displayBalance: boolean;
      editSettings: boolean;
      register: boolean;
      usernameAsTitle: boolean;
      autoAnswer: boolean;
      agent: boolean;
    };
    customCss: string;
    codecs: { delete: string[]; priority: string[] };
  };
  balance: number | null;
  /** ISO 4217 code of the balance, when one was given. */
  currency: string | null;
  agentState: AgentState;
  build: { version: string; uuid: string };
}

/** Agent statuses: only `available` agents ring for group calls. */
export const AGENT_STATES = ['available', 'away', 'wrap_up', 'dnd'] as const;
/** One agent status. */
export type AgentState = (typeof AGENT_STATES)[number];

/** The agent's status and its calls since a moment (today), from GET /webphone/agent. */
export interface AgentSummary {
  state: AgentState;
  today: { total: number; outgoing: number; incoming: number; answered: number; missed: number; talkS: number };
}

/** One entry of `webphone.menu_items`. */
export interface MenuItem {
  page: 'agent' | 'history' | 'dialpad' | 'contacts' | 'settings' | 'custom' | 'iframe';
  title?: string;
  icon?: string;
  position?: number;
  disabled?: boolean;
  url?: string;
  template?: string;
}

/** A CDR as GET /api/v1/cdrs lists it. */
export interface Cdr {
  callId: string;
  caller: string;
  callee: string;
  startedAt: string;
  answeredAt?: string;
  durationS: number;
  disposition: string;
}

/** A user of the same domain (GET /webphone/colleagues). */
export interface Colleague {
  ext: string;
  name?: string;
}

/** A phonebook entry as GET /api/v1/contacts lists it. */
export interface Contact {
  id: string;
  name: string;
  company?: string;
  ext?: string;
  numbers: Array<{ number: string; label?: string }>;
}

/** The web phone's REST calls, over the shared client (which holds the session token). */
export class WebphoneApi {
  constructor(private readonly client: () => ApiClient) {}

  /** GET /webphone/config: the user's SIP line and the domain's web phone configuration. */
  config(): Promise<WebphoneConfig> {
    return this.client().request('GET', '/webphone/config');
  }

  /** The agent's status and calls since `since` (local midnight). */
  agent(since: Date): Promise<AgentSummary> {
    return this.client().request('GET', `/webphone/agent?since=${encodeURIComponent(since.toISOString())}`);
  }

  async setAgentState(state: AgentState): Promise<AgentState> {
    return (await this.client().request<{ state: AgentState }>('PUT', '/webphone/agent', { state })).state;
  }

  async cdrs(): Promise<Cdr[]> {
    return (await this.client().request<{ docs: Cdr[] }>('GET', '/cdrs?pageSize=50')).docs;
  }

  async contacts(keyword: string): Promise<Contact[]> {
    const q = keyword ? `&keyword=${encodeURIComponent(keyword)}` : '';
    return (await this.client().request<{ docs: Contact[] }>('GET', `/contacts?pageSize=200${q}`)).docs;
  }

  async colleagues(keyword: string): Promise<Colleague[]> {
    const q = keyword ? `?keyword=${encodeURIComponent(keyword)}` : '';
    return (await this.client().request<{ docs: Colleague[] }>('GET', `/webphone/colleagues${q}`)).docs;
  }
}
