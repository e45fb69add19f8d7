import { describe, expect, it } from 'vitest';
import { applyToList, belongs, bump, contactName, listQuery, listsFor, mergeConversation, unread } from './lists';
import type { Conversation } from './types';

const agent = { id: 'me', role: 'agent' as const };
const sup = { id: 'boss', role: 'supervisor' as const };

const conv = (id: string, extra: Partial<Conversation> = {}): Conversation => ({
  id,
  org_id: 'o',
  inbox_id: 'i',
  contact_id: '0197a3c2-5e1f-7b7a-9c1e-2f4d5a6b7c8d',
  status: 'assigned',
  assignee: { id: 'me', name: 'Me' },
  team_id: null,
  last_seq: 0,
  created_at: '2025-06-01T08:00:00.000Z',
  first_response_at: null,
  closed_at: null,
  updated_at: '2025-06-01T08:00:00.000Z',
  rating: null,
  visitor_read_seq: 0,
  agent_read_seq: 0,
  ...extra,
});

describe('list membership', () => {
  it('gives the All list to supervisors and admins only', () => {
    expect(listsFor(agent)).toEqual(['mine', 'queue', 'closed']);
    expect(listsFor(sup)).toContain('all');
    expect(listQuery('closed', agent)).toEqual({ status: 'closed', assignee_id: 'me' });
    expect(listQuery('mine', sup)).toEqual({ assignee_id: 'boss', open: true });
  });

  it('files a conversation by status and assignee', () => {
    const mine = conv('a');
    expect(belongs('mine', mine, agent)).toBe(true);
    expect(belongs('all', mine, agent)).toBe(false);
    expect(belongs('all', mine, sup)).toBe(true);
    const queued = conv('b', { status: 'queued', assignee: null });
    expect(belongs('queue', queued, agent)).toBe(true);
    expect(belongs('mine', queued, agent)).toBe(false);
    const closed = conv('c', { status: 'closed', assignee: { id: 'other', name: 'O' } });
    expect(belongs('closed', closed, agent)).toBe(false);
    expect(belongs('closed', closed, sup)).toBe(true);
  });

  it('moves a conversation between lists as pushes change it', () => {
    let mine = applyToList('mine', [], conv('a', { status: 'queued', assignee: null }), agent);
    let queue = applyToList('queue', [], conv('a', { status: 'queued', assignee: null }), agent);
    expect([mine.length, queue.length]).toEqual([0, 1]);
    const assigned = conv('a');
    mine = applyToList('mine', mine, assigned, agent);
    queue = applyToList('queue', queue, assigned, agent);
    expect([mine.length, queue.length]).toEqual([1, 0]);
    // transferred away: gone from Mine
    mine = applyToList('mine', mine, conv('a', { assignee: { id: 'other', name: 'O' } }), agent);
    expect(mine).toEqual([]);
  });

  it('keeps a list unchanged (same array) when an update does not concern it', () => {
    const list = [conv('a')];
    expect(applyToList('mine', list, conv('x', { status: 'queued', assignee: null }), agent)).toBe(list);
  });

  it('puts the latest activity on top, and the queue first come first served', () => {
    const older = conv('a', { updated_at: '2025-06-01T08:00:00.000Z', created_at: '2025-06-01T07:00:00.000Z', status: 'queued' });
    const newer = conv('b', { updated_at: '2025-06-01T09:00:00.000Z', created_at: '2025-06-01T06:00:00.000Z', status: 'queued' });
    expect(applyToList('all', [older], newer, sup).map((c) => c.id)).toEqual(['b', 'a']);
    expect(applyToList('queue', [older], newer, sup).map((c) => c.id)).toEqual(['b', 'a']);
    const bumped = bump(older, 3, '2025-06-01T10:00:00.000Z');
    expect(applyToList('all', [newer, older], bumped, sup).map((c) => c.id)).toEqual(['a', 'b']);
  });
});

describe('unread', () => {
  it('counts last_seq - agent_read_seq for conversations the user may act on', () => {
    expect(unread(conv('a', { last_seq: 5, agent_read_seq: 2 }), agent)).toBe(3);
    expect(unread(conv('a', { last_seq: 5, agent_read_seq: 5 }), agent)).toBe(0);
    const queued = conv('q', { status: 'queued', assignee: null, last_seq: 2 });
    expect(unread(queued, agent)).toBe(0);
    expect(unread(queued, sup)).toBe(2);
  });

  it('a stale conversation object never lowers the seqs or loses the queue position', () => {
    const held = conv('a', { status: 'queued', assignee: null, last_seq: 4, agent_read_seq: 4, queue_position: 2, contact_name: 'Li Lei' });
    const stale = conv('a', { status: 'queued', assignee: null, last_seq: 3, agent_read_seq: 1 });
    const merged = mergeConversation(held, stale);
    expect(merged.last_seq).toBe(4);
    expect(unread(merged, sup)).toBe(0);
    expect(merged.queue_position).toBe(2);
    expect(merged.contact_name).toBe('Li Lei');
  });

  it('names a contact by contact_name, or Visitor + the id\'s last 4 hex digits', () => {
    expect(contactName(conv('a', { contact_name: 'Li Lei' }), 'Visitor')).toBe('Li Lei');
    expect(contactName(conv('a'), 'Visitor')).toBe('Visitor 7c8d');
  });
});
