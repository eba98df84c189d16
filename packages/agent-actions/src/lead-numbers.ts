import type { CallTarget } from './actions.js';

/** The numbers of a lead that `makeCall` can dial. */
export interface LeadNumbers {
  phone: string;
  alt_phone?: string | null;
  phone_code?: string | null;
}

/**
 * The number `makeCall(target)` dials for a lead: `phone`, `alt_phone`, or the lead's
 * `phone_code` (its country or trunk prefix) followed by `phone`. Undefined when the lead has
 * no such number.
 */
export function leadDialString(lead: LeadNumbers, target: CallTarget = 'phone'): string | undefined {
  switch (target) {
    case 'phone':
      return lead.phone || undefined;
    case 'alt_phone':
      return lead.alt_phone || undefined;
    case 'phone_code':
      return lead.phone_code && lead.phone ? `${lead.phone_code}${lead.phone.replace(/^0+/, '')}` : undefined;
  }
}
