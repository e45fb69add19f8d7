// The delivery line under a reply Kefu hands to another channel (an email, a WeChat message, a text, an API
// integration): whether it went out, and for SMS whether the carrier delivered it. Generic over channels; only the
// "sent" words name the channel. Pure, so the wording rules are unit-tested.
import type { Strings } from './i18n';
import type { Delivery, InboxKind } from './types';

export interface DeliveryLine {
  status: Delivery['status'];
  text: string;
}

/**
 * "Sending…" while the delivery worker is on it (with the last try's reason when the provider made it wait),
 * "Sent by email" / "Sent to WeChat" / "Sent by SMS" / "Sent to your integration" (plain "Sent" for a channel not
 * known yet), "Delivered" once the carrier says so (SMS), or "Not delivered: <the provider's words>".
 */
export function deliveryLine(d: Delivery, text: Strings, kind?: InboxKind): DeliveryLine {
  if (d.status === 'delivered') return { status: 'delivered', text: text.deliveryDelivered };
  if (d.status === 'sent') return { status: 'sent', text: (kind && text.deliverySentBy[kind]) || text.deliverySent };
  if (d.status === 'failed') return { status: 'failed', text: text.deliveryFailed(d.error?.trim() || text.error) };
  return { status: 'pending', text: d.error?.trim() ? text.deliveryRetrying(d.error.trim()) : text.deliveryPending };
}

/**
 * How far a delivery has come: pending, then sent, then settled (delivered or failed; a text the carrier could not
 * deliver fails after "sent"). A copy that tells less never undoes one that tells more.
 */
export function deliveryRank(status: Delivery['status'] | undefined): number {
  return status === 'delivered' || status === 'failed' ? 2 : status === 'sent' ? 1 : 0;
}
