// The tickets' pure rules: a filter and its query string, whether a pushed ticket belongs in the list under
// the current filter, the nearest SLA due time as relative text with its colour, and each history line's words.
// Pure (the dictionary and the clock come in as arguments), so every rule is unit-tested.
import type { Strings } from './i18n';
import type { Priority, SlaState, SlaTarget, Ticket, TicketEvent, TicketStatus } from './types';

/** "open" = not solved or closed (the server's open=true); "any" = no status filter. */
export type StatusFilter = 'open' | 'any' | TicketStatus;
/** "me", "none" (unassigned), "anyone", or an agent's id. */
export type AssigneeFilter = string;

export interface TicketFilter {
  status: StatusFilter;
  priority: '' | Priority;
  assignee: AssigneeFilter;
  team: string;
  tag: string;
  sla: '' | 'ok' | 'due_soon' | 'breached';
  q: string;
}

export const DEFAULT_FILTER: TicketFilter = { status: 'open', priority: '', assignee: 'anyone', team: '', tag: '', sla: '', q: '' };

export const PAGE_SIZE = 50;
const SOON_MS = 60 * 60_000;
const DONE: TicketStatus[] = ['solved', 'closed'];
export const isDone = (t: Pick<Ticket, 'status'>) => DONE.includes(t.status);

/** The GET /tickets query for a filter (only what narrows the list is sent). */
export function filterQuery(f: TicketFilter, meId: string, cursor?: string | null, limit = PAGE_SIZE): string {
  const s = new URLSearchParams();
  if (f.status === 'open') s.set('open', 'true');
  else if (f.status !== 'any') s.set('status', f.status);
  if (f.priority) s.set('priority', f.priority);
  if (f.assignee === 'me') s.set('assignee_id', meId);
  else if (f.assignee && f.assignee !== 'anyone') s.set('assignee_id', f.assignee);
  if (f.team) s.set('team_id', f.team);
  if (f.tag.trim()) s.set('tag', f.tag.trim());
  if (f.sla) s.set('sla', f.sla);
  if (f.q.trim()) s.set('q', f.q.trim());
  if (cursor) s.set('cursor', cursor);
  s.set('limit', String(limit));
  return s.toString();
}

/** The server's rules for each filter, applied to a pushed ticket, so a push can add or drop it in place. */
export function matches(f: TicketFilter, t: Ticket, meId: string): boolean {
  if (f.status === 'open' ? isDone(t) : f.status !== 'any' && t.status !== f.status) return false;
  if (f.priority && t.priority !== f.priority) return false;
  const assignee = t.assignee?.id ?? null;
  if (f.assignee === 'me' ? assignee !== meId : f.assignee === 'none' ? assignee !== null : f.assignee !== 'anyone' && f.assignee && assignee !== f.assignee)
    return false;
  if (f.team && t.team_id !== f.team) return false;
  if (f.tag.trim() && !t.tags.includes(f.tag.trim())) return false;
  if (f.sla && t.sla.state !== f.sla) return false;
  const q = f.q.trim().toLowerCase();
  if (q) {
    const n = q.replace(/^#/, '');
    if (!(/^\d+$/.test(n) && String(t.number) === n) && !t.subject.toLowerCase().includes(q)) return false;
  }
  return true;
}

/** Newest first, as the server lists them. */
const newestFirst = (a: Ticket, b: Ticket) => b.created_at.localeCompare(a.created_at) || b.number - a.number;

/** A pushed ticket never goes back to an older version held (a REST answer can be stale on arrival). */
export const newer = (old: Ticket | undefined, next: Ticket): Ticket => (old && old.updated_at > next.updated_at ? old : next);

/** Replaces, inserts or removes one ticket in the list after a push or an edit. */
export function applyTicket(list: Ticket[], t: Ticket, f: TicketFilter, meId: string): Ticket[] {
  const old = list.find((x) => x.id === t.id);
  const next = newer(old, t);
  const rest = list.filter((x) => x.id !== t.id);
  if (!matches(f, next, meId)) return old ? rest : list;
  return [...rest, next].sort(newestFirst);
}

export interface Due {
  target: SlaTarget;
  at: string;
}

/** The due times that still run: first response until answered, next response while set, resolution until solved. */
export function openDues(t: Ticket): Due[] {
  if (isDone(t)) return [];
  const out: Due[] = [];
  if (t.sla.first_response_due && !t.first_response_at) out.push({ target: 'first_response', at: t.sla.first_response_due });
  if (t.sla.next_response_due) out.push({ target: 'next_response', at: t.sla.next_response_due });
  if (t.sla.resolution_due) out.push({ target: 'resolution', at: t.sla.resolution_due });
  return out;
}

export const nextDue = (t: Ticket): Due | null => openDues(t).reduce<Due | null>((min, d) => (!min || d.at < min.at ? d : min), null);

/** Breached once past, due soon within the hour (as the server counts it), else ok. */
export function dueState(at: string, now: number): Exclude<SlaState, 'none'> {
  const left = Date.parse(at) - now;
  if (left < 0) return 'breached';
  return left <= SOON_MS ? 'due_soon' : 'ok';
}

/** "45 min", "1 h 30 min", "3 h", "2 d": precise when close, coarse when far. */
export function span(ms: number, text: Pick<Strings, 'spanMin' | 'spanHour' | 'spanDay'>): string {
  const mins = Math.floor(Math.abs(ms) / 60_000);
  if (mins < 60) return text.spanMin(mins);
  const hours = Math.floor(mins / 60);
  if (hours < 48) {
    const rest = mins % 60;
    return hours < 6 && rest ? `${text.spanHour(hours)} ${text.spanMin(rest)}` : text.spanHour(hours);
  }
  return text.spanDay(Math.floor(hours / 24));
}

/**
 * "in 45 min", "2 h overdue", "due now". A target the server already counts as breached reads as overdue even
 * when this browser's clock (or its last tick) is a little behind.
 */
export function relativeDue(
  at: string,
  now: number,
  text: Pick<Strings, 'spanMin' | 'spanHour' | 'spanDay' | 'dueIn' | 'overdue' | 'dueNow'>,
  breached = false,
): string {
  const left = breached ? Math.min(Date.parse(at) - now, -60_000) : Date.parse(at) - now;
  if (Math.abs(left) < 60_000) return text.dueNow;
  return left > 0 ? text.dueIn(span(left, text)) : text.overdue(span(left, text));
}

export interface SlaSummary {
  text: string;
  state: Exclude<SlaState, 'none'>;
  target: SlaTarget | null;
  at: string | null;
}

/** What a list row shows in its SLA column: the nearest due as relative time, or "breached" once nothing runs. */
export function slaSummary(t: Ticket, now: number, text: Strings): SlaSummary | null {
  const due = nextDue(t);
  if (due) {
    const breached = t.sla.breached.includes(due.target);
    return { text: relativeDue(due.at, now, text, breached), state: breached ? 'breached' : dueState(due.at, now), target: due.target, at: due.at };
  }
  if (t.sla.breached.length) return { text: text.slaBreachedShort, state: 'breached', target: t.sla.breached[0], at: null };
  return null;
}

/** One target's line in the detail's SLA panel. */
export function targetState(t: Ticket, target: SlaTarget, now: number): 'met' | 'breached' | 'due_soon' | 'ok' | 'none' {
  if (t.sla.breached.includes(target)) return 'breached';
  const at = target === 'first_response' ? t.sla.first_response_due : target === 'next_response' ? t.sla.next_response_due : t.sla.resolution_due;
  if (target === 'first_response' && t.first_response_at) return 'met';
  if (target === 'resolution' && isDone(t)) return 'met';
  if (!at) return 'none';
  return dueState(at, now);
}

/** A field's value in the user's words: statuses and priorities are translated, names and tags shown as given. */
function valueText(field: string | null, v: string, text: Strings): string {
  if (field === 'status') return text.ticketStatuses[v] ?? v;
  if (field === 'priority') return text.priorities[v] ?? v;
  if (field === 'tags') return v.split(',').join(', ');
  return v;
}

/** The words of a history entry: "Li Lei changed status from Open to Pending", "SLA breached: first response". */
export function historyLine(e: TicketEvent, text: Strings): string {
  const who = e.actor.name || text.system;
  switch (e.kind) {
    case 'created':
      return text.evCreated(who);
    case 'comment':
      return e.private ? text.evNote(who) : text.evReply(who);
    case 'sla_breached':
      return text.evBreached(text.slaTargets[e.field ?? ''] ?? e.field ?? '');
    case 'changed': {
      const field = text.ticketFields[e.field ?? ''] ?? e.field ?? '';
      const from = e.old ? valueText(e.field, e.old, text) : '';
      const to = e.new ? valueText(e.field, e.new, text) : '';
      if (!from && to) return text.evSet(who, field, to);
      if (from && !to) return text.evCleared(who, field, from);
      return text.evChanged(who, field, from, to);
    }
    default:
      return who;
  }
}

/** "/app/tickets/<id>" → id; the list itself (or anything else) → null. */
export function ticketIdFromPath(path: string): string | null {
  const m = path.match(/^\/app\/tickets\/([0-9a-f-]{36})/);
  return m ? m[1] : null;
}

/** Tags typed as "vip, refund  billing": trimmed, without duplicates or empties. */
export function parseTags(input: string): string[] {
  return [...new Set(input.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean))];
}

/** The server's "already ticket #12" names the ticket; the number lets the UI say so in its own words too. */
export function ticketNumberIn(message: string): number | null {
  const m = message.match(/#(\d+)/);
  return m ? Number(m[1]) : null;
}

// ---- SLA policy inputs: minutes shown as hours when they are whole hours ----

export type Unit = 'min' | 'h';
export interface DurationInput {
  value: string;
  unit: Unit;
}

export function toInput(mins: number | null | undefined): DurationInput {
  if (mins == null) return { value: '', unit: 'h' };
  return mins % 60 === 0 ? { value: String(mins / 60), unit: 'h' } : { value: String(mins), unit: 'min' };
}

/** Empty = no target (null); otherwise whole positive minutes, or NaN for the form to refuse. */
export function fromInput(d: DurationInput): number | null {
  const v = d.value.trim();
  if (!v) return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) return NaN;
  const mins = d.unit === 'h' ? n * 60 : n;
  return Number.isInteger(mins) ? mins : NaN;
}
