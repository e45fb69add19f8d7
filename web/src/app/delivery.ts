// The delivery line under a reply Kefu hands to another channel (an email, a WeChat message): whether it went out.
// Generic over channels; only the "sent" words name the channel. Pure, so the wording rules are unit-tested.
import type { Strings } from './i18n';
import type { Delivery, InboxKind } from './types';

export interface DeliveryLine {
  status: Delivery['status'];
  text: string;
}

/**
 * "Sending…" while the delivery worker is on it (with the last try's reason when the provider made it wait),
 * "Sent by email" / "Sent to WeChat" (plain "Sent" for a channel not known yet), or "Not delivered: <the
 * provider's words>".
 */
export function deliveryLine(d: Delivery, text: Strings, kind?: InboxKind): DeliveryLine {
  if (d.status === 'sent') return { status: 'sent', text: (kind && text.deliverySentBy[kind]) || text.deliverySent };
  if (d.status === 'failed') return { status: 'failed', text: text.deliveryFailed(d.error?.trim() || text.error) };
  return { status: 'pending', text: d.error?.trim() ? text.deliveryRetrying(d.error.trim()) : text.deliveryPending };
}
