// What the workspace shows of the email channel: an emailed reply's delivery line under the agent's bubble.
// Pure, so the wording rules are unit-tested.
import type { Strings } from './i18n';
import type { Delivery } from './types';

export interface DeliveryLine {
  status: Delivery['status'];
  text: string;
}

/**
 * "Sending…" while the outbox works on it (with the last try's reason when a busy server made it wait), "Sent by
 * email", or "Not delivered: <the refusing server's words>".
 */
export function deliveryLine(d: Delivery, text: Strings): DeliveryLine {
  if (d.status === 'sent') return { status: 'sent', text: text.deliverySent };
  if (d.status === 'failed') return { status: 'failed', text: text.deliveryFailed(d.error?.trim() || text.error) };
  return { status: 'pending', text: d.error?.trim() ? text.deliveryRetrying(d.error.trim()) : text.deliveryPending };
}
