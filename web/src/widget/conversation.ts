// The visitor's view of one conversation: messages kept in seq order without duplicates, whatever order pushes,
// acks and syncs arrive in. Pure, so it is easy to test.

import type { Message } from '../shared/protocol';
export type { Message, Sender } from '../shared/protocol';

/** A message typed here and not yet acked. */
export interface Pending {
  client_id: string;
  content: string;
  failed?: string;
}

export class Timeline {
  private bySeq = new Map<number, Message>();
  pending: Pending[] = [];

  constructor(public conversationId: string | null = null) {}

  /** Adds messages of this conversation; returns those that were new. */
  add(messages: Message[]): Message[] {
    const fresh: Message[] = [];
    for (const m of messages) {
      if (this.conversationId && m.conversation_id !== this.conversationId) continue;
      if (!this.bySeq.has(m.seq)) {
        this.bySeq.set(m.seq, m);
        fresh.push(m);
      }
      if (m.client_id) this.pending = this.pending.filter((p) => p.client_id !== m.client_id);
    }
    return fresh;
  }

  /** The highest seq up to which nothing is missing: where a sync must start. */
  get contiguousSeq(): number {
    let seq = 0;
    while (this.bySeq.has(seq + 1)) seq += 1;
    return seq;
  }

  /** True when a push skipped a seq: a sync is needed to fill the gap. */
  get hasGap(): boolean {
    const max = Math.max(0, ...this.bySeq.keys());
    return max > this.contiguousSeq;
  }

  get messages(): Message[] {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
}
