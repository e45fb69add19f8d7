import { describe, expect, it } from 'vitest';
import { t } from './i18n';
import {
  DEFAULT_FILTER,
  applyTicket,
  dueState,
  filterQuery,
  fromInput,
  historyLine,
  matches,
  nextDue,
  parseTags,
  relativeDue,
  slaSummary,
  targetState,
  ticketIdFromPath,
  ticketNumberIn,
  toInput,
  type TicketFilter,
} from './tickets';
import type { Ticket, TicketEvent } from './types';

const en = t('en');
const zh = t('zh-CN');
const NOW = Date.parse('2025-06-02T10:00:00.000Z');
const at = (mins: number) => new Date(NOW + mins * 60_000).toISOString();

const ticket = (number: number, extra: Partial<Ticket> = {}): Ticket => ({
  id: `00000000-0000-0000-0000-${String(number).padStart(12, '0')}`,
  org_id: 'o',
  number,
  subject: `Subject ${number}`,
  description: '',
  status: 'open',
  priority: 'normal',
  assignee: { id: 'me', name: 'Me' },
  team_id: null,
  requester: { id: 'c', name: 'Wang Fang', email: null, phone: null },
  tags: [],
  conversation_id: null,
  sla: { first_response_due: null, next_response_due: null, resolution_due: null, state: 'none', breached: [] },
  first_response_at: null,
  solved_at: null,
  closed_at: null,
  created_at: at(-number),
  updated_at: at(-number),
  ...extra,
});

const f = (extra: Partial<TicketFilter> = {}): TicketFilter => ({ ...DEFAULT_FILTER, ...extra });

describe('filter → query', () => {
  it('sends only what narrows the list, open by default', () => {
    expect(filterQuery(DEFAULT_FILTER, 'me')).toBe('open=true&limit=50');
    expect(filterQuery(f({ status: 'any' }), 'me')).toBe('limit=50');
    expect(filterQuery(f({ status: 'pending', priority: 'urgent', assignee: 'me', team: 'T', tag: ' vip ', sla: 'breached', q: ' #12 ' }), 'u1', 'CUR', 20)).toBe(
      'status=pending&priority=urgent&assignee_id=u1&team_id=T&tag=vip&sla=breached&q=%2312&cursor=CUR&limit=20',
    );
    expect(filterQuery(f({ assignee: 'none' }), 'me')).toContain('assignee_id=none');
    expect(filterQuery(f({ assignee: 'someone' }), 'me')).toContain('assignee_id=someone');
  });
});

describe('list membership under a filter', () => {
  it('follows each filter as the server does', () => {
    expect(matches(f(), ticket(1), 'me')).toBe(true);
    expect(matches(f(), ticket(1, { status: 'solved' }), 'me')).toBe(false);
    expect(matches(f({ status: 'any' }), ticket(1, { status: 'closed' }), 'me')).toBe(true);
    expect(matches(f({ status: 'pending' }), ticket(1), 'me')).toBe(false);
    expect(matches(f({ priority: 'high' }), ticket(1), 'me')).toBe(false);
    expect(matches(f({ assignee: 'me' }), ticket(1, { assignee: { id: 'x', name: 'X' } }), 'me')).toBe(false);
    expect(matches(f({ assignee: 'none' }), ticket(1, { assignee: null }), 'me')).toBe(true);
    expect(matches(f({ assignee: 'none' }), ticket(1), 'me')).toBe(false);
    expect(matches(f({ assignee: 'x' }), ticket(1, { assignee: { id: 'x', name: 'X' } }), 'me')).toBe(true);
    expect(matches(f({ team: 'T' }), ticket(1), 'me')).toBe(false);
    expect(matches(f({ tag: 'vip' }), ticket(1, { tags: ['vip'] }), 'me')).toBe(true);
    expect(matches(f({ sla: 'breached' }), ticket(1), 'me')).toBe(false);
    expect(matches(f({ q: '#7' }), ticket(7), 'me')).toBe(true);
    expect(matches(f({ q: 'subject 7' }), ticket(7), 'me')).toBe(true);
    expect(matches(f({ q: 'refund' }), ticket(7), 'me')).toBe(false);
  });

  it('adds, replaces and drops a pushed ticket, newest first, never going back to an older version', () => {
    const list = [ticket(1), ticket(3)].sort((a, b) => b.created_at.localeCompare(a.created_at));
    const added = applyTicket(list, ticket(2), f(), 'me');
    expect(added.map((x) => x.number)).toEqual([1, 2, 3]);
    const solved = applyTicket(added, ticket(2, { status: 'solved', updated_at: at(1) }), f(), 'me');
    expect(solved.map((x) => x.number)).toEqual([1, 3]);
    expect(applyTicket(solved, ticket(9, { status: 'closed' }), f(), 'me')).toBe(solved);
    const renamed = applyTicket(solved, ticket(3, { subject: 'New words', updated_at: at(5) }), f(), 'me');
    expect(renamed[1].subject).toBe('New words');
    const stale = applyTicket(renamed, ticket(3, { subject: 'Old words', updated_at: at(2) }), f(), 'me');
    expect(stale[1].subject).toBe('New words');
  });
});

describe('SLA due', () => {
  const sla = (extra: Partial<Ticket['sla']>) => ({ first_response_due: null, next_response_due: null, resolution_due: null, state: 'ok' as const, breached: [], ...extra });

  it('picks the nearest due time that still runs', () => {
    const x = ticket(1, { sla: sla({ first_response_due: at(30), resolution_due: at(600) }) });
    expect(nextDue(x)).toEqual({ target: 'first_response', at: at(30) });
    expect(nextDue({ ...x, first_response_at: at(-5) })).toEqual({ target: 'resolution', at: at(600) });
    expect(nextDue({ ...x, status: 'solved' })).toBeNull();
  });

  it('says how long is left or how late, coloured by state', () => {
    expect(relativeDue(at(45), NOW, en)).toBe('in 45 min');
    expect(relativeDue(at(-120), NOW, en)).toBe('2 h overdue');
    expect(relativeDue(at(90), NOW, en)).toBe('in 1 h 30 min');
    expect(relativeDue(at(60 * 24 * 3), NOW, en)).toBe('in 3 d');
    expect(relativeDue(at(0), NOW, en)).toBe('due now');
    expect(relativeDue(at(45), NOW, zh)).toBe('45 分钟后到期');
    expect(relativeDue(at(-120), NOW, zh)).toBe('已超时 2 小时');
    expect(dueState(at(45), NOW)).toBe('due_soon');
    expect(dueState(at(61), NOW)).toBe('ok');
    expect(dueState(at(-1), NOW)).toBe('breached');
    expect(slaSummary(ticket(1, { sla: sla({ resolution_due: at(-120) }) }), NOW, en)).toMatchObject({ text: '2 h overdue', state: 'breached', target: 'resolution' });
    expect(slaSummary(ticket(1), NOW, en)).toBeNull();
    // The server's breach wins over a browser clock that is a few seconds behind.
    expect(slaSummary(ticket(1, { sla: sla({ first_response_due: at(0.5), breached: ['first_response'] }) }), NOW, en)).toMatchObject({
      text: '1 min overdue',
      state: 'breached',
    });
    expect(slaSummary(ticket(1, { status: 'solved', sla: sla({ breached: ['resolution'] }) }), NOW, en)?.state).toBe('breached');
  });

  it("tells each target's state in the detail panel", () => {
    const x = ticket(1, { sla: sla({ first_response_due: at(-10), resolution_due: at(30), breached: ['first_response'] }) });
    expect(targetState(x, 'first_response', NOW)).toBe('breached');
    expect(targetState(x, 'resolution', NOW)).toBe('due_soon');
    expect(targetState(x, 'next_response', NOW)).toBe('none');
    expect(targetState({ ...x, sla: sla({ first_response_due: at(10) }), first_response_at: at(-1) }, 'first_response', NOW)).toBe('met');
  });
});

describe('history lines', () => {
  const ev = (extra: Partial<TicketEvent>): TicketEvent => ({
    id: 'e',
    ticket_id: 't',
    actor: { kind: 'agent', id: 'a', name: 'Li Lei' },
    kind: 'changed',
    field: null,
    old: null,
    new: null,
    content: null,
    private: false,
    created_at: at(0),
    ...extra,
  });

  it('says who changed what, in the user language', () => {
    expect(historyLine(ev({ field: 'status', old: 'open', new: 'pending' }), en)).toBe('Li Lei changed status from Open to Pending');
    expect(historyLine(ev({ field: 'status', old: 'open', new: 'pending' }), zh)).toBe('Li Lei 将状态从「处理中」改为「待回复」');
    expect(historyLine(ev({ field: 'priority', old: 'normal', new: 'urgent' }), en)).toBe('Li Lei changed priority from Normal to Urgent');
    expect(historyLine(ev({ field: 'assignee', old: null, new: 'Han Mei' }), en)).toBe('Li Lei set assignee to Han Mei');
    expect(historyLine(ev({ field: 'team', old: 'Billing', new: null }), en)).toBe('Li Lei cleared team (was Billing)');
    expect(historyLine(ev({ field: 'tags', old: 'a', new: 'a,vip' }), en)).toBe('Li Lei changed tags from a to a, vip');
    expect(historyLine(ev({ kind: 'created' }), en)).toBe('Li Lei created the ticket');
    expect(historyLine(ev({ kind: 'comment', private: true }), en)).toBe('Li Lei added an internal note');
    expect(historyLine(ev({ kind: 'sla_breached', field: 'first_response', actor: { kind: 'system', id: null, name: '' } }), en)).toBe(
      'SLA breached: First response',
    );
    expect(historyLine(ev({ kind: 'sla_breached', field: 'resolution' }), zh)).toBe('SLA 超时：解决');
  });
});

describe('small parsers', () => {
  it('reads routes, tags, ticket numbers and SLA durations', () => {
    expect(ticketIdFromPath('/app/tickets/0197a3c2-5e1f-7b7a-9c1e-2f4d5a6b7c8d')).toBe('0197a3c2-5e1f-7b7a-9c1e-2f4d5a6b7c8d');
    expect(ticketIdFromPath('/app/tickets')).toBeNull();
    expect(parseTags(' vip, refund，vip  billing ')).toEqual(['vip', 'refund', 'billing']);
    expect(ticketNumberIn('conversation is already ticket #12')).toBe(12);
    expect(ticketNumberIn('conflict')).toBeNull();
    expect(toInput(120)).toEqual({ value: '2', unit: 'h' });
    expect(toInput(45)).toEqual({ value: '45', unit: 'min' });
    expect(toInput(null)).toEqual({ value: '', unit: 'h' });
    expect(fromInput({ value: '1.5', unit: 'h' })).toBe(90);
    expect(fromInput({ value: '', unit: 'min' })).toBeNull();
    expect(fromInput({ value: '0', unit: 'min' })).toBeNaN();
    expect(fromInput({ value: '2.5', unit: 'min' })).toBeNaN();
  });
});
