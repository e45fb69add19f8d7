// The conversation lists (Mine, Queue, All, Closed): which conversation belongs where, the order, unread counts,
// and how a pushed conversation moves between lists. Pure, so every push rule is unit-tested.
import type { Conversation, User } from './types';

export type ListKey = 'mine' | 'queue' | 'all' | 'closed';
export const LIST_KEYS: ListKey[] = ['mine', 'queue', 'all', 'closed'];

export const oversees = (u: Pick<User, 'role'>) => u.role === 'supervisor' || u.role === 'admin';

/** The lists this user has: All is for those who oversee the organisation. */
export const listsFor = (u: Pick<User, 'role'>): ListKey[] => (oversees(u) ? LIST_KEYS : ['mine', 'queue', 'closed']);

/** The REST query that fills a list (docs/realtime.md §11.2). */
export function listQuery(key: ListKey, me: Pick<User, 'id' | 'role'>): Record<string, string | boolean> {
  switch (key) {
    case 'mine':
      return { assignee_id: me.id, open: true };
    case 'queue':
      return { status: 'queued' };
    case 'all':
      return { open: true };
    case 'closed':
      return oversees(me) ? { status: 'closed' } : { status: 'closed', assignee_id: me.id };
  }
}

export function belongs(key: ListKey, c: Conversation, me: Pick<User, 'id' | 'role'>): boolean {
  const own = c.assignee?.id === me.id;
  switch (key) {
    case 'mine':
      return own && c.status !== 'closed';
    case 'queue':
      return c.status === 'queued';
    case 'all':
      return oversees(me) && c.status !== 'closed';
    case 'closed':
      return c.status === 'closed' && (own || oversees(me));
  }
}

/** The queue is first come, first served; the other lists put the latest activity on top. */
export function sortList(key: ListKey, list: Conversation[]): Conversation[] {
  const sorted = [...list];
  if (key === 'queue') sorted.sort((a, b) => a.created_at.localeCompare(b.created_at));
  else sorted.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  return sorted;
}

/** Replaces, inserts or removes a conversation in one list after a push. */
export function applyToList(key: ListKey, list: Conversation[], c: Conversation, me: Pick<User, 'id' | 'role'>): Conversation[] {
  const rest = list.filter((x) => x.id !== c.id);
  if (!belongs(key, c, me)) return rest.length === list.length ? list : rest;
  return sortList(key, [...rest, c]);
}

/** Only the assignee or an overseer may act on a conversation (docs/realtime.md §9). */
export const mayAct = (c: Conversation, me: Pick<User, 'id' | 'role'>) => oversees(me) || c.assignee?.id === me.id;

export function unread(c: Conversation, me: Pick<User, 'id' | 'role'>): number {
  if (!mayAct(c, me)) return 0;
  return Math.max(0, c.last_seq - c.agent_read_seq);
}

/**
 * A pushed conversation replaces the one held, except: queue_position comes with some updates only (keep the last
 * while still queued), contact_name may be missing on an older server, and the seqs never go back, so a REST
 * answer that was already stale when it arrived cannot undo a later push.
 */
export function mergeConversation(old: Conversation | undefined, next: Conversation): Conversation {
  if (!old) return next;
  const merged: Conversation = {
    ...next,
    last_seq: Math.max(old.last_seq, next.last_seq),
    agent_read_seq: Math.max(old.agent_read_seq, next.agent_read_seq),
    visitor_read_seq: Math.max(old.visitor_read_seq, next.visitor_read_seq),
    updated_at: next.updated_at > old.updated_at ? next.updated_at : old.updated_at,
  };
  if (next.status === 'queued' && next.queue_position === undefined && old.status === 'queued' && old.queue_position !== undefined) {
    merged.queue_position = old.queue_position;
  }
  if (next.contact_name === undefined && old.contact_name !== undefined) merged.contact_name = old.contact_name;
  return merged;
}

/** A new message bumps the conversation: its last_seq never goes back, and it moves to the top. */
export function bump(c: Conversation, seq: number, at: string): Conversation {
  return {
    ...c,
    last_seq: Math.max(c.last_seq, seq),
    updated_at: at > c.updated_at ? at : c.updated_at,
  };
}

export const contactName = (c: Pick<Conversation, 'contact_name' | 'contact_id'>, visitor: string) =>
  c.contact_name || `${visitor} ${c.contact_id.replace(/-/g, '').slice(-4)}`;
