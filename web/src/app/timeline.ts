// One conversation's messages as the agent sees them: kept in seq order without duplicates whatever order
// pushes, acks and syncs arrive in, plus the cursor (docs/realtime.md §11) up to which history is known complete.
// Pure functions over plain objects, so the merge rules are unit-tested and Preact can compare by identity.
import { deliveryRank } from './delivery';
import type { Message } from './types';

export interface Pending {
  client_id: string;
  content: string;
  private: boolean;
  /** The server's refusal or a timeout; the composer offers a retry with the same client_id. */
  failed?: string;
}

export interface Timeline {
  messages: Message[];
  /** Highest seq known complete: the after_seq of the next sync. */
  cursor: number;
  pending: Pending[];
}

export const SYNC_PAGE = 1000;

export const emptyTimeline = (): Timeline => ({ messages: [], cursor: 0, pending: [] });

/**
 * Whether `incoming` tells more about a held message's delivery. A delivery only moves forward (pending → sent →
 * delivered, or failed), so a late copy still saying "pending" or "sent" (an ack, a sync or a push racing another)
 * never undoes a later state.
 */
export function fresher(held: Message, incoming: Message): boolean {
  const a = held.delivery;
  const b = incoming.delivery;
  if (!b) return false;
  if (a && deliveryRank(b.status) < deliveryRank(a.status)) return false;
  return a?.status !== b.status || a?.error !== b.error;
}

/**
 * Adds messages, dropping those already held (by id, or by seq: a seq names one message); a held message takes
 * a newer delivery state from its copy, since pushes are not replayed and a sync after a reconnect brings it.
 */
export function merge(t: Timeline, incoming: Message[]): Timeline {
  if (incoming.length === 0) return t;
  const held = new Map(t.messages.map((m) => [m.id, m]));
  const seqs = new Set(t.messages.map((m) => m.seq));
  const added: Message[] = [];
  const updated = new Map<string, Message>();
  for (const m of incoming) {
    const old = held.get(m.id);
    if (old) {
      if (fresher(old, m)) updated.set(m.id, { ...old, delivery: m.delivery });
      continue;
    }
    if (seqs.has(m.seq)) continue;
    held.set(m.id, m);
    seqs.add(m.seq);
    added.push(m);
  }
  const clientIds = new Set(incoming.map((m) => m.client_id).filter(Boolean));
  const pending = clientIds.size ? t.pending.filter((p) => !clientIds.has(p.client_id)) : t.pending;
  if (added.length === 0 && updated.size === 0 && pending === t.pending) return t;
  let messages = updated.size ? t.messages.map((m) => updated.get(m.id) ?? m) : t.messages;
  if (added.length) messages = [...messages, ...added].sort((a, b) => a.seq - b.seq);
  return { ...t, messages, cursor: advance(messages, t.cursor), pending };
}

/** A message:updated push: the held message with that id is replaced in place; one not held is not added. */
export function update(t: Timeline, m: Message): Timeline {
  const i = t.messages.findIndex((x) => x.id === m.id);
  if (i < 0) return t;
  const old = t.messages[i];
  // The push is the server's latest word, but an earlier state ("pending", "sent") never undoes a later one.
  const next = old.delivery && m.delivery && deliveryRank(m.delivery.status) < deliveryRank(old.delivery.status) ? { ...m, delivery: old.delivery } : m;
  const messages = [...t.messages];
  messages[i] = next;
  return { ...t, messages };
}

/** Agents see every seq (notes included), so held messages right after the cursor extend what is complete. */
function advance(messages: Message[], cursor: number): number {
  const seqs = new Set(messages.map((m) => m.seq));
  while (seqs.has(cursor + 1)) cursor += 1;
  return cursor;
}

/** A pushed or acked message. `gap` says a sync from the cursor is needed to fill what was missed. */
export function receive(t: Timeline, m: Message): { timeline: Timeline; gap: boolean } {
  const timeline = merge(t, [m]);
  return { timeline, gap: m.seq > timeline.cursor };
}

/** A sync ack: its up_to_seq is the new cursor (never moving back); `more` asks for the next page. */
export function applySync(t: Timeline, messages: Message[], upToSeq: number): { timeline: Timeline; more: boolean } {
  const merged = merge(t, messages);
  const cursor = Math.max(merged.cursor, upToSeq);
  const timeline = cursor === merged.cursor ? merged : { ...merged, cursor };
  return { timeline, more: messages.length >= SYNC_PAGE };
}

export function addPending(t: Timeline, p: Pending): Timeline {
  return { ...t, pending: [...t.pending.filter((x) => x.client_id !== p.client_id), p] };
}

export function failPending(t: Timeline, clientId: string, reason: string): Timeline {
  return { ...t, pending: t.pending.map((p) => (p.client_id === clientId ? { ...p, failed: reason } : p)) };
}

export function dropPending(t: Timeline, clientId: string): Timeline {
  return { ...t, pending: t.pending.filter((p) => p.client_id !== clientId) };
}

export const lastSeq = (t: Timeline) => (t.messages.length ? t.messages[t.messages.length - 1].seq : 0);

/** The agent-side message the visitor's "Read" mark goes under: the last agent message at or below their position. */
export function visitorReadMark(t: Timeline, visitorReadSeq: number): string | null {
  for (let i = t.messages.length - 1; i >= 0; i--) {
    const m = t.messages[i];
    if (m.seq <= visitorReadSeq && m.sender.kind === 'agent' && !m.private) return m.id;
  }
  return null;
}
