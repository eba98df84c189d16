import { originOf } from '@handset/agent-actions';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { registerAgentToolsRoutes } from '../api/agent-tools-routes.js';
import { registerCampaignRoutes } from '../api/campaign-routes.js';
import type { DirectoryServices } from '../directory/directory-services.js';
import type { Store } from '../store/store.js';
import { WebphoneUserStateService } from '../webphone/webphone-user-state-service.js';
import { ActionRunner } from './action-runner.js';
import { ButtonService } from './button-service.js';
import { CampaignService } from './campaign-service.js';
import { FormService } from './form-service.js';
import { PreviewDialer, type AgentStatusSource } from './preview-dialer.js';
import { ScriptSandbox, type ScriptLimits } from './script-sandbox.js';
import { ScriptService } from './script-service.js';

/** The setting listing the origins a `redirect` may open outside the web phone. */
export const REDIRECT_ORIGINS_SETTING = 'agent.redirect_origins';

/** The agent tools of one server: campaigns and the preview dialer, buttons, forms, scripts. */
export interface AgentTools {
  campaigns: CampaignService;
  dialer: PreviewDialer;
  buttons: ButtonService;
  forms: FormService;
  scripts: ScriptService;
  runner: ActionRunner;
  /** Registers the /api/v1 routes (pass to registerApi's `routes`). */
  routes(v1: FastifyInstance): void;
  /** Stops the script sandbox. */
  close(): Promise<void>;
}

/**
 * Builds the agent tools over the store and the directory's audit log and settings (defining
 * `agent.redirect_origins`); `status` defaults to the web phone's agent status.
 */
export function createAgentTools(o: {
  store: Store;
  services: Pick<DirectoryServices, 'audit' | 'settings' | 'settingsRegistry'>;
  status?: AgentStatusSource;
  scriptLimits?: Partial<ScriptLimits>;
  logger?: Logger;
}): AgentTools {
  const audit = o.services.audit;
  o.services.settingsRegistry.define<string[]>(REDIRECT_ORIGINS_SETTING, {
    schema: z
      .array(
        z
          .string()
          .trim()
          .refine((s) => originOf(s) !== undefined, 'an http(s) origin, e.g. https://crm.example.com'),
      )
      .max(100),
    default: [],
    description:
      'Origins (https://host[:port]) that an agent button or script may redirect to; paths of the web phone are always allowed',
    scope: 'domain',
  });
  const campaigns = new CampaignService(o.store, audit);
  const status = o.status ?? new WebphoneUserStateService(o.store, audit);
  const dialer = new PreviewDialer({ store: o.store, campaigns, status, audit });
  const sandbox = new ScriptSandbox({ limits: o.scriptLimits, logger: o.logger });
  const scripts = new ScriptService(o.store, audit, sandbox);
  const forms = new FormService(o.store, audit, scripts);
  const buttons = new ButtonService(o.store, audit, scripts, forms);
  const runner = new ActionRunner({
    store: o.store,
    buttons,
    forms,
    scripts,
    dialer,
    redirectOrigins: (domainId) => o.services.settings.get<string[]>(REDIRECT_ORIGINS_SETTING, domainId),
  });
  return {
    campaigns,
    dialer,
    buttons,
    forms,
    scripts,
    runner,
    routes: (v1) => {
      registerCampaignRoutes(v1, { campaigns, dialer });
      registerAgentToolsRoutes(v1, { buttons, forms, scripts, runner });
    },
    close: () => sandbox.close(),
  };
}
