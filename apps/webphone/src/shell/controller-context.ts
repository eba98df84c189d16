import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { useT as useSharedT, type Translate } from '@handset/ui';
import type { MessageKey } from '../messages.js';
import type { WebphoneController } from '../state/webphone-controller.js';

/** The web phone's controller, provided at the root. */
export const ControllerContext = createContext<WebphoneController | undefined>(undefined);

/** The controller (stores and actions) for a page. */
export function useController(): WebphoneController {
  const c = useContext(ControllerContext);
  if (!c) throw new Error('useController outside the web phone');
  return c;
}

/** The web phone's translator (shared and own keys). */
export const useT: () => Translate<MessageKey> = () => useSharedT<MessageKey>();
