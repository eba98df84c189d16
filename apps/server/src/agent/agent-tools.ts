import type { FastifyInstance } from 'fastify';
import { registerCampaignRoutes } from '../api/campaign-routes.js';
import type { DirectoryServices } from '../directory/directory-services.js';
import type { Store } from '../store/store.js';
import { WebphoneUserStateService } from '../webphone/webphone-user-state-service.js';
import { CampaignService } from './campaign-service.js';
import { PreviewDialer, type AgentStatusSource } from './preview-dialer.js';

/** The agent tools of one server: campaigns and the preview dialer. */
export interface AgentTools {
  campaigns: CampaignService;
  dialer: PreviewDialer;
  /** Registers the /api/v1 routes (pass to registerApi's `routes`). */
  routes(v1: FastifyInstance): void;
  close(): Promise<void>;
}

/** Builds the agent tools over the store; `status` defaults to the web phone's agent status. */
export function createAgentTools(o: {
  store: Store;
  services: Pick<DirectoryServices, 'audit'>;
  status?: AgentStatusSource;
}): AgentTools {
  const campaigns = new CampaignService(o.store, o.services.audit);
  const status = o.status ?? new WebphoneUserStateService(o.store, o.services.audit);
  const dialer = new PreviewDialer({ store: o.store, campaigns, status, audit: o.services.audit });
  return {
    campaigns,
    dialer,
    routes: (v1) => registerCampaignRoutes(v1, { campaigns, dialer }),
    close: () => Promise.resolve(),
  };
}
