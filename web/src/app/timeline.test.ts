import { describe, expect, it } from 'vitest';
import { addPending, applySync, emptyTimeline, failPending, merge, receive, update, visitorReadMark, SYNC_PAGE } from './timeline';
import type { Message } from './types';

const msg = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: `m-${seq}`,
  conversation_id: 'c',
  seq,
  sender: { kind: 'visitor', id: 'v', name: 'Visitor 1234' },
  content: `hello ${seq}`,
  private: false,
  created_at: new Date(Date.UTC(2025, 5, 1, 8, 0, seq)).toISOString(),
  ...extra,
});

describe('timeline', () => {
  it('keeps messages in seq order without duplicates, whatever the arrival order', () => {
    let t = merge(emptyTimeline(), [msg(3), msg(1)]);
    t = merge(t, [msg(2), msg(1), msg(3)]);
    expect(t.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(t.cursor).toBe(3);
  });

  it('drops a repeated id even under another seq, and returns the same object when nothing changed', () => {
    const t = merge(emptyTimeline(), [msg(1)]);
    expect(merge(t, [msg(1)])).toBe(t);
    expect(merge(t, [{ ...msg(2), id: 'm-1' }]).messages).toHaveLength(1);
  });

  it('a push after a gap asks for a sync and does not move the cursor past the gap', () => {
    let t = applySync(emptyTimeline(), [msg(1), msg(2)], 2).timeline;
    const r = receive(t, msg(5));
    expect(r.gap).toBe(true);
    expect(r.timeline.cursor).toBe(2);
    t = applySync(r.timeline, [msg(3), msg(4), msg(5)], 5).timeline;
    expect(t.cursor).toBe(5);
    expect(t.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(receive(t, msg(6)).gap).toBe(false);
  });

  it('a sync after a reconnect merges with pushes that raced it: nothing twice, nothing out of order', () => {
    let t = applySync(emptyTimeline(), [msg(1)], 1).timeline;
    t = receive(t, msg(4)).timeline; // pushed during the sync
    t = applySync(t, [msg(2), msg(3), msg(4)], 4).timeline;
    t = receive(t, msg(4)).timeline; // the same push again
    expect(t.messages.map((m) => m.id)).toEqual(['m-1', 'm-2', 'm-3', 'm-4']);
    expect(t.cursor).toBe(4);
  });

  it('up_to_seq moves the cursor even when nothing came back, and never moves it back', () => {
    const t = applySync(emptyTimeline(), [], 7).timeline;
    expect(t.cursor).toBe(7);
    expect(applySync(t, [], 3).timeline.cursor).toBe(7);
  });

  it('asks for another page when a full page came back', () => {
    const page = Array.from({ length: SYNC_PAGE }, (_, i) => msg(i + 1));
    const r = applySync(emptyTimeline(), page, SYNC_PAGE);
    expect(r.more).toBe(true);
    expect(applySync(r.timeline, [msg(SYNC_PAGE + 1)], SYNC_PAGE + 1).more).toBe(false);
  });

  it('a message carrying a pending client_id replaces the pending one; a failure keeps it for a retry', () => {
    let t = addPending(emptyTimeline(), { client_id: 'k1', content: 'hi', private: false });
    t = failPending(t, 'k1', 'timeout');
    expect(t.pending[0].failed).toBe('timeout');
    t = addPending(t, { client_id: 'k1', content: 'hi', private: false }); // the retry
    expect(t.pending).toHaveLength(1);
    expect(t.pending[0].failed).toBeUndefined();
    t = receive(t, msg(1, { client_id: 'k1', sender: { kind: 'agent', id: 'a', name: 'A' } })).timeline;
    expect(t.pending).toHaveLength(0);
    expect(t.messages).toHaveLength(1);
  });

  it('puts the visitor read mark under the last public agent message they have read', () => {
    const agent = { kind: 'agent' as const, id: 'a', name: 'A' };
    const t = merge(emptyTimeline(), [
      msg(1),
      msg(2, { sender: agent }),
      msg(3, { sender: agent, private: true }),
      msg(4, { sender: agent }),
    ]);
    expect(visitorReadMark(t, 0)).toBeNull();
    expect(visitorReadMark(t, 3)).toBe('m-2');
    expect(visitorReadMark(t, 4)).toBe('m-4');
  });

  it("replaces an emailed reply by id when its delivery settles, and never lets a late pending copy undo it", () => {
    const agent = { kind: 'agent' as const, id: 'a', name: 'Agent' };
    const reply = msg(2, { sender: agent, delivery: { status: 'pending', error: null } });
    const t = merge(emptyTimeline(), [msg(1), reply]);
    const sent = update(t, { ...reply, delivery: { status: 'sent', error: null } });
    expect(sent.messages[1].delivery).toEqual({ status: 'sent', error: null });
    expect(sent.messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(update(sent, reply).messages[1].delivery?.status).toBe('sent');
    // A message not held (another page of history) is not added by an update.
    expect(update(t, msg(9))).toBe(t);
    // The ack or a sync carrying the older copy changes nothing; a sync after a reconnect brings the news.
    expect(merge(sent, [reply])).toBe(sent);
    const failed = merge(t, [{ ...reply, delivery: { status: 'failed', error: '550 User unknown' } }]);
    expect(failed.messages[1].delivery).toEqual({ status: 'failed', error: '550 User unknown' });
    expect(failed.messages[1].content).toBe('hello 2');
    // A busy server's reason while still pending is news too.
    expect(merge(t, [{ ...reply, delivery: { status: 'pending', error: '451 busy' } }]).messages[1].delivery?.error).toBe('451 busy');
  });

  it('moves a text forward from sent to delivered, and never back when a late "sent" or "pending" copy comes', () => {
    const agent = { kind: 'agent' as const, id: 'a', name: 'Agent' };
    const reply = msg(2, { sender: agent, delivery: { status: 'pending', error: null } });
    const t = merge(emptyTimeline(), [msg(1), reply]);
    const sent = update(t, { ...reply, delivery: { status: 'sent', error: null } });
    const delivered = update(sent, { ...reply, delivery: { status: 'delivered', error: null } });
    expect(delivered.messages[1].delivery).toEqual({ status: 'delivered', error: null });
    // The status callbacks may overtake the send's own push (Twilio gives no order between them).
    expect(update(delivered, { ...reply, delivery: { status: 'sent', error: null } }).messages[1].delivery?.status).toBe('delivered');
    expect(update(delivered, reply).messages[1].delivery?.status).toBe('delivered');
    expect(merge(delivered, [{ ...reply, delivery: { status: 'sent', error: null } }])).toBe(delivered);
    // A sync after a reconnect brings "delivered" to a copy that only knew "sent".
    expect(merge(sent, [{ ...reply, delivery: { status: 'delivered', error: null } }]).messages[1].delivery?.status).toBe('delivered');
    // A text the carrier could not deliver fails after "sent".
    const undelivered = update(sent, { ...reply, delivery: { status: 'failed', error: 'Twilio error 30003: unreachable' } });
    expect(undelivered.messages[1].delivery?.status).toBe('failed');
    expect(merge(undelivered, [{ ...reply, delivery: { status: 'sent', error: null } }])).toBe(undelivered);
  });
});
