// Outbound webhooks as the admin screen edits them: the events there are, the form's checks and body, which field a
// server refusal names, and how the delivery log reads. Pure, so every rule here is unit-tested.
import type { Webhook, WebhookDelivery } from '../types';
import { isTargetUrl } from './apiSettings';

/** The events a webhook can subscribe to, in the order the form lists them. */
export const WEBHOOK_EVENTS = [
  'conversation.created',
  'conversation.updated',
  'conversation.closed',
  'message.created',
  'message.updated',
  'ticket.created',
  'ticket.updated',
] as const;

export type WebhookField = 'url' | 'events';

export interface WebhookForm {
  url: string;
  events: string[];
  active: boolean;
}

export const emptyWebhookForm = (): WebhookForm => ({ url: '', events: [], active: true });

export const readWebhook = (w: Webhook): WebhookForm => ({ url: w.url, events: [...w.events], active: w.active });

/** Ticks or unticks an event, keeping the form's order (and the server's names only). */
export function toggleEvent(events: string[], event: string, on: boolean): string[] {
  const next = new Set(events);
  if (on) next.add(event);
  else next.delete(event);
  return WEBHOOK_EVENTS.filter((e) => next.has(e));
}

export function problems(f: WebhookForm): WebhookField[] {
  const out: WebhookField[] = [];
  if (!isTargetUrl(f.url)) out.push('url');
  if (!f.events.some((e) => (WEBHOOK_EVENTS as readonly string[]).includes(e))) out.push('events');
  return out;
}

/** The field a server 422 names ("url is invalid: …", "events is invalid: …"); null when none does. */
export function fieldOfError(message: string): WebhookField | null {
  const m = message.match(/^(url|events)\b/);
  return (m?.[1] as WebhookField | undefined) ?? null;
}

/** The body of a POST, or of a PATCH with only what changed (null when nothing did). */
export function webhookBody(f: WebhookForm, was?: Webhook): Partial<WebhookForm> | null {
  const body: Partial<WebhookForm> = { url: f.url.trim(), events: f.events, active: f.active };
  if (!was) return body;
  if (body.url === was.url) delete body.url;
  if (f.events.length === was.events.length && f.events.every((e) => was.events.includes(e))) delete body.events;
  if (f.active === was.active) delete body.active;
  return Object.keys(body).length ? body : null;
}

/** A webhook's list entry is replaced by the server's copy, or added when new; a deleted one goes. */
export function upsertWebhook(list: Webhook[], w: Webhook): Webhook[] {
  return list.some((x) => x.id === w.id) ? list.map((x) => (x.id === w.id ? w : x)) : [...list, w];
}

/** The log with one delivery replaced by the server's newer copy (a retry queued). */
export const replaceDelivery = (list: WebhookDelivery[], d: WebhookDelivery) => list.map((x) => (x.id === d.id ? d : x));

/** Only a failed delivery is sent again by hand; a pending one is still being tried. */
export const mayRetry = (d: WebhookDelivery) => d.status === 'failed';

/** A URL short enough for a list: the host and path, without the scheme. */
export const shortUrl = (url: string) => url.replace(/^https?:\/\//, '');
