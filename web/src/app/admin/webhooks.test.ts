import { describe, expect, it } from 'vitest';
import type { Webhook, WebhookDelivery } from '../types';
import { emptyWebhookForm, fieldOfError, mayRetry, problems, readWebhook, replaceDelivery, shortUrl, toggleEvent, upsertWebhook, WEBHOOK_EVENTS, webhookBody } from './webhooks';

const hook: Webhook = {
  id: 'w1', org_id: 'o', url: 'https://hooks.example.com/kefu', events: ['message.created'], secret: 's', active: true,
  created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z',
};
const delivery = (id: string, status: WebhookDelivery['status']): WebhookDelivery => ({
  id, webhook_id: 'w1', event: 'message.created', status, attempts: 1, response_status: status === 'failed' ? 400 : 200,
  last_error: null, next_attempt_at: '2025-01-01T00:00:00Z', created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z',
});

describe('webhooks', () => {
  it('knows the server\'s events, and keeps ticked ones in the form\'s order', () => {
    expect(WEBHOOK_EVENTS).toEqual(['conversation.created', 'conversation.updated', 'conversation.closed', 'message.created', 'message.updated', 'ticket.created', 'ticket.updated']);
    let events = toggleEvent([], 'ticket.updated', true);
    events = toggleEvent(events, 'conversation.created', true);
    events = toggleEvent(events, 'conversation.created', true);
    expect(events).toEqual(['conversation.created', 'ticket.updated']);
    expect(toggleEvent(events, 'conversation.created', false)).toEqual(['ticket.updated']);
    expect(toggleEvent([], 'message.deleted', true)).toEqual([]);
  });

  it('asks for a URL and at least one event, and marks the field a server refusal names', () => {
    expect(problems(emptyWebhookForm())).toEqual(['url', 'events']);
    expect(problems({ url: 'https://x.example/h', events: ['message.created'], active: true })).toEqual([]);
    expect(problems({ url: 'ftp://x', events: ['message.created'], active: true })).toEqual(['url']);
    expect(fieldOfError('url is on this machine or a private network; set KEFU_WEBHOOKS_ALLOW_PRIVATE=1 to allow such targets')).toBe('url');
    expect(fieldOfError('events is invalid: subscribe to at least one event')).toBe('events');
    expect(fieldOfError('urls are fine')).toBe(null);
    expect(fieldOfError('something else')).toBe(null);
  });

  it('posts the whole form, and patches only what changed', () => {
    expect(webhookBody({ url: ' https://x.example/h ', events: ['message.created'], active: false })).toEqual({ url: 'https://x.example/h', events: ['message.created'], active: false });
    expect(webhookBody(readWebhook(hook), hook)).toBe(null);
    expect(webhookBody({ ...readWebhook(hook), url: 'https://y.example/h' }, hook)).toEqual({ url: 'https://y.example/h' });
    expect(webhookBody({ ...readWebhook(hook), events: ['message.created', 'ticket.created'] }, hook)).toEqual({ events: ['message.created', 'ticket.created'] });
    expect(webhookBody({ ...readWebhook(hook), active: false }, hook)).toEqual({ active: false });
  });

  it('keeps the list and the log current with the server\'s copies', () => {
    const other = { ...hook, id: 'w2' };
    expect(upsertWebhook([hook], other).map((w) => w.id)).toEqual(['w1', 'w2']);
    expect(upsertWebhook([hook, other], { ...hook, active: false })[0].active).toBe(false);
    const log = [delivery('d2', 'failed'), delivery('d1', 'delivered')];
    expect(replaceDelivery(log, { ...delivery('d2', 'pending'), attempts: 2 }).map((d) => [d.id, d.status])).toEqual([['d2', 'pending'], ['d1', 'delivered']]);
    expect(log.filter(mayRetry).map((d) => d.id)).toEqual(['d2']);
    expect(shortUrl('https://hooks.example.com/kefu?x=1')).toBe('hooks.example.com/kefu?x=1');
  });
});
