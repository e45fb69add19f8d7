import { describe, expect, it } from 'vitest';
import { Timeline, type Message } from './conversation';

const msg = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: `m${seq}`,
  conversation_id: 'c1',
  seq,
  sender: { kind: 'agent', id: 'a1', name: 'Agent' },
  content: `message ${seq}`,
  private: false,
  created_at: '2026-11-27T00:00:00.000Z',
  ...extra,
});

describe('Timeline', () => {
  it('keeps messages in seq order whatever order they arrive in, each once', () => {
    const t = new Timeline('c1');
    expect(t.add([msg(3), msg(1)]).map((m) => m.seq)).toEqual([3, 1]);
    expect(t.add([msg(1), msg(2), msg(3)]).map((m) => m.seq)).toEqual([2]);
    expect(t.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('ignores other conversations', () => {
    const t = new Timeline('c1');
    expect(t.add([msg(1, { conversation_id: 'c2' })])).toEqual([]);
    expect(t.messages).toEqual([]);
  });

  it('drops a pending message once its stored copy arrives', () => {
    const t = new Timeline('c1');
    t.pending.push({ client_id: 'x', content: 'hi' }, { client_id: 'y', content: 'there' });
    t.add([msg(1, { client_id: 'x', sender: { kind: 'visitor', id: 'v', name: 'Visitor' } })]);
    expect(t.pending.map((p) => p.client_id)).toEqual(['y']);
  });

  it('tells a gap from a complete run', () => {
    const t = new Timeline('c1');
    t.add([msg(1), msg(2)]);
    expect([t.contiguousSeq, t.hasGap]).toEqual([2, false]);
    t.add([msg(4)]);
    expect([t.contiguousSeq, t.hasGap]).toEqual([2, true]);
  });
});
