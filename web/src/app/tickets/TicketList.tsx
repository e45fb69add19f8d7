// The ticket list: filters (status, priority, assignee, team, tag, SLA, search), rows with the nearest SLA due,
// checkboxes with a bulk status change, "New ticket", and pushes applied in place under the current filter.
import { useEffect, useRef, useState } from 'preact/hooks';
import { rest } from '../api';
import { shortTime } from '../format';
import { useT } from '../hooks';
import { store } from '../socket';
import { DEFAULT_FILTER, applyTicket, filterQuery, slaSummary, type TicketFilter } from '../tickets';
import { PRIORITIES, TICKET_STATUSES, type Ticket, type TicketStatus } from '../types';
import { NewTicketDialog } from './NewTicketDialog';
import { useNow, type Directory } from './directory';

const FILTER_KEY = 'kefu.ticket_filter';

function savedFilter(): TicketFilter {
  try {
    return { ...DEFAULT_FILTER, ...JSON.parse(sessionStorage.getItem(FILTER_KEY) ?? '{}') };
  } catch {
    return DEFAULT_FILTER;
  }
}

export function StatusPill({ status }: { status: string }) {
  const text = useT();
  return <span class={`status-pill t-${status}`}>{text.ticketStatuses[status] ?? status}</span>;
}

export function PriorityPill({ priority }: { priority: string }) {
  const text = useT();
  return <span class={`prio-pill p-${priority}`}>{text.priorities[priority] ?? priority}</span>;
}

function Filters({ f, set, dir }: { f: TicketFilter; set: (f: TicketFilter) => void; dir: Directory }) {
  const text = useT();
  const me = store.me!;
  const others = dir.users.filter((u) => u.active && u.id !== me.id);
  const changed = JSON.stringify(f) !== JSON.stringify(DEFAULT_FILTER);
  return (
    <div class="ticket-filters">
      <input
        type="search"
        class="ticket-search"
        placeholder={text.searchTickets}
        aria-label={text.searchTickets}
        value={f.q}
        onInput={(e) => set({ ...f, q: e.currentTarget.value })}
        data-testid="ticket-search"
      />
      <select aria-label={text.status} value={f.status} onChange={(e) => set({ ...f, status: e.currentTarget.value as TicketFilter['status'] })} data-testid="ticket-filter-status">
        <option value="open">{text.statusOpen}</option>
        <option value="any">{text.statusAny}</option>
        {TICKET_STATUSES.map((s) => (
          <option value={s}>{text.ticketStatuses[s]}</option>
        ))}
      </select>
      <select aria-label={text.priority} value={f.priority} onChange={(e) => set({ ...f, priority: e.currentTarget.value as TicketFilter['priority'] })} data-testid="ticket-filter-priority">
        <option value="">{text.anyPriority}</option>
        {PRIORITIES.map((p) => (
          <option value={p}>{text.priorities[p]}</option>
        ))}
      </select>
      <select aria-label={text.assignee} value={f.assignee} onChange={(e) => set({ ...f, assignee: e.currentTarget.value })} data-testid="ticket-filter-assignee">
        <option value="anyone">{text.assigneeAnyone}</option>
        <option value="me">{text.assigneeMe}</option>
        <option value="none">{text.unassigned}</option>
        {others.map((u) => (
          <option value={u.id}>{u.name}</option>
        ))}
      </select>
      <select aria-label={text.team} value={f.team} onChange={(e) => set({ ...f, team: e.currentTarget.value })} data-testid="ticket-filter-team">
        <option value="">{text.anyTeam}</option>
        {dir.teams.map((t) => (
          <option value={t.id}>{t.name}</option>
        ))}
      </select>
      <input class="ticket-tag-filter" placeholder={text.tagFilter} aria-label={text.tagFilter} value={f.tag} onInput={(e) => set({ ...f, tag: e.currentTarget.value })} data-testid="ticket-filter-tag" />
      <select aria-label={text.sla} value={f.sla} onChange={(e) => set({ ...f, sla: e.currentTarget.value as TicketFilter['sla'] })} data-testid="ticket-filter-sla">
        <option value="">{text.anySla}</option>
        {(['ok', 'due_soon', 'breached'] as const).map((s) => (
          <option value={s}>{text.slaStates[s]}</option>
        ))}
      </select>
      {changed && (
        <button type="button" class="btn ghost small" onClick={() => set(DEFAULT_FILTER)}>
          {text.resetFilters}
        </button>
      )}
    </div>
  );
}

function Row({ t, now, checked, onCheck, fresh }: { t: Ticket; now: number; checked: boolean; onCheck: (on: boolean) => void; fresh: boolean }) {
  const text = useT();
  const sla = slaSummary(t, now, text);
  const open = () => store.navigate(`/app/tickets/${t.id}`);
  return (
    <tr class={`ticket-row ${checked ? 'checked' : ''} ${fresh ? 'fresh' : ''} ${sla?.state === 'breached' ? 'breached' : ''}`} data-testid="ticket-row" data-ticket-id={t.id} onClick={open}>
      <td class="check-cell" onClick={(e) => e.stopPropagation()}>
        <input type="checkbox" checked={checked} onChange={(e) => onCheck(e.currentTarget.checked)} aria-label={text.selectTicket(t.number)} data-testid="ticket-select" />
      </td>
      <td class="num" data-testid="ticket-number">
        #{t.number}
      </td>
      <td class="subject-cell">
        <a
          href={`/app/tickets/${t.id}`}
          class="ticket-subject-link"
          title={t.subject}
          onClick={(e) => {
            e.preventDefault();
            e.stopPropagation();
            open();
          }}
        >
          {t.subject}
        </a>
        {t.tags.length > 0 && (
          <span class="row-tags">
            {t.tags.slice(0, 3).map((tag) => (
              <span class="tag">{tag}</span>
            ))}
          </span>
        )}
      </td>
      <td class="ellipsis">{t.requester?.name ?? <span class="muted">—</span>}</td>
      <td>
        <StatusPill status={t.status} />
      </td>
      <td>
        <PriorityPill priority={t.priority} />
      </td>
      <td class="ellipsis">{t.assignee?.name ?? <span class="muted">{text.unassigned}</span>}</td>
      <td>
        {sla ? (
          <span class={`sla-due ${sla.state}`} data-testid="ticket-sla-due" data-state={sla.state} title={sla.target ? text.slaTargets[sla.target] : undefined}>
            {sla.text}
          </span>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td class="muted nowrap">
        <time dateTime={t.updated_at}>{shortTime(t.updated_at, store.lang, new Date(now))}</time>
      </td>
    </tr>
  );
}

export function TicketList({ dir }: { dir: Directory }) {
  const text = useT();
  const me = store.me!;
  const now = useNow();
  const [f, setF] = useState(savedFilter);
  const [items, setItems] = useState<Ticket[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkStatus, setBulkStatus] = useState<TicketStatus | ''>('');
  const [bulkError, setBulkError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [creating, setCreating] = useState(false);
  const [fresh, setFresh] = useState<string | null>(null);
  const filterRef = useRef(f);
  filterRef.current = f;
  const request = useRef(0);

  const load = async (filter: TicketFilter, after: string | null = null) => {
    const n = ++request.current;
    setLoading(true);
    try {
      const page = await rest.tickets(filterQuery(filter, me.id, after));
      if (n !== request.current) return; // an answer to an older filter
      setItems((list) => (after ? [...list, ...page.tickets.filter((t) => !list.some((x) => x.id === t.id))] : page.tickets));
      setCursor(page.next_cursor);
      setError(null);
    } catch (e) {
      if (n === request.current) setError((e as Error).message);
    } finally {
      if (n === request.current) setLoading(false);
    }
  };

  // Typed filters (search, tag) wait for a pause; picked ones load at once.
  const typed = `${f.q}\u0000${f.tag}`;
  const typedRef = useRef(typed);
  useEffect(() => {
    sessionStorage.setItem(FILTER_KEY, JSON.stringify(f));
    const wait = typed !== typedRef.current ? 250 : 0;
    typedRef.current = typed;
    const timer = setTimeout(() => void load(f), wait);
    return () => clearTimeout(timer);
  }, [JSON.stringify(f)]);

  useEffect(
    () =>
      store.onTicket((t) => {
        if (!t) return void load(filterRef.current);
        setItems((list) => applyTicket(list, t, filterRef.current, me.id));
      }),
    [],
  );

  const visibleSelected = items.filter((t) => selected.has(t.id));
  const allChecked = items.length > 0 && visibleSelected.length === items.length;
  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };

  const applyBulk = async () => {
    if (!bulkStatus || !visibleSelected.length) return;
    setBusy(true);
    setBulkError(null);
    try {
      const { tickets } = await rest.bulkStatus(
        visibleSelected.map((t) => t.id),
        bulkStatus,
      );
      setItems((list) => tickets.reduce((l, t) => applyTicket(l, t, filterRef.current, me.id), list));
      setSelected(new Set());
      setBulkStatus('');
    } catch (e) {
      setBulkError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="ticket-list-page">
      <div class="ticket-toolbar">
        <h2>{text.tickets}</h2>
        <Filters f={f} set={setF} dir={dir} />
        <button type="button" class="btn primary" onClick={() => setCreating(true)} data-testid="new-ticket">
          + {text.newTicket}
        </button>
      </div>
      {visibleSelected.length > 0 && (
        <div class="bulk-bar" data-testid="bulk-bar">
          <span>{text.selectedCount(visibleSelected.length)}</span>
          <select value={bulkStatus} onChange={(e) => setBulkStatus(e.currentTarget.value as TicketStatus)} aria-label={text.setStatus} data-testid="bulk-status">
            <option value="">{text.setStatus}</option>
            {TICKET_STATUSES.map((s) => (
              <option value={s}>{text.ticketStatuses[s]}</option>
            ))}
          </select>
          <button type="button" class="btn primary small" disabled={!bulkStatus || busy} onClick={applyBulk} data-testid="bulk-apply">
            {text.apply}
          </button>
          <button type="button" class="btn ghost small" onClick={() => setSelected(new Set())}>
            {text.cancel}
          </button>
          {bulkError && (
            <span class="form-error inline" role="alert" data-testid="bulk-error">
              {bulkError}
            </span>
          )}
        </div>
      )}
      {error && (
        <div class="form-error list-error" role="alert" data-testid="ticket-list-error">
          {error}
        </div>
      )}
      <div class="ticket-table-wrap">
        <table class="ticket-table" data-testid="ticket-list">
          <thead>
            <tr>
              <th class="check-cell">
                <input
                  type="checkbox"
                  checked={allChecked}
                  aria-label={text.selectAll}
                  onChange={(e) => setSelected(e.currentTarget.checked ? new Set(items.map((t) => t.id)) : new Set())}
                  data-testid="ticket-select-all"
                />
              </th>
              <th class="num">#</th>
              <th>{text.subject}</th>
              <th>{text.requester}</th>
              <th>{text.status}</th>
              <th>{text.priority}</th>
              <th>{text.assignee}</th>
              <th>{text.sla}</th>
              <th>{text.updated}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((t) => (
              <Row key={t.id} t={t} now={now} checked={selected.has(t.id)} onCheck={(on) => toggle(t.id, on)} fresh={t.id === fresh} />
            ))}
          </tbody>
        </table>
        {items.length === 0 && <div class="empty-list muted">{loading ? text.loading : text.noTickets}</div>}
        {cursor && (
          <div class="load-more">
            <button type="button" class="btn" disabled={loading} onClick={() => void load(f, cursor)} data-testid="ticket-load-more">
              {loading ? text.loading : text.loadMore}
            </button>
          </div>
        )}
      </div>
      {creating && (
        <NewTicketDialog
          dir={dir}
          onClose={() => setCreating(false)}
          onCreated={(t) => {
            setCreating(false);
            setItems((list) => applyTicket(list, t, filterRef.current, me.id));
            setFresh(t.id);
          }}
        />
      )}
    </div>
  );
}
