// One ticket: the subject (edited in place), status, priority, assignee, team and tags (each saved on its own
// with PATCH), the SLA's three due times, the requester, the chat it came from, the history oldest first, and
// a reply / internal-note box. A push for this ticket refetches it, so the history shows others' changes too.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { rest, type TicketPatch } from '../api';
import { fullDate, hhmm, sameDay, shortTime } from '../format';
import { useT } from '../hooks';
import { store } from '../socket';
import { historyLine, newer, parseTags, relativeDue, targetState } from '../tickets';
import { PRIORITIES, SLA_TARGETS, TICKET_STATUSES, type Ticket, type TicketEvent } from '../types';
import { useNow, type Directory } from './directory';
import { PriorityPill, StatusPill } from './TicketList';

function Subject({ t, save }: { t: Ticket; save: (p: TicketPatch) => Promise<boolean> }) {
  const text = useT();
  const [value, setValue] = useState(t.subject);
  const editing = useRef(false);
  // Someone else's rename shows unless this user is typing one.
  useEffect(() => {
    if (!editing.current) setValue(t.subject);
  }, [t.subject]);
  const commit = async () => {
    editing.current = false;
    const v = value.trim();
    if (!v || v === t.subject) return setValue(t.subject);
    if (!(await save({ subject: v }))) setValue(t.subject);
  };
  return (
    <input
      class="ticket-subject"
      value={value}
      aria-label={text.subject}
      maxLength={200}
      onFocus={() => (editing.current = true)}
      onInput={(e) => setValue(e.currentTarget.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && !e.isComposing) {
          e.preventDefault();
          e.currentTarget.blur();
        }
        if (e.key === 'Escape') {
          editing.current = false;
          setValue(t.subject);
          e.currentTarget.blur();
        }
      }}
      onBlur={() => void commit()}
      data-testid="ticket-subject"
    />
  );
}

function Tags({ t, save }: { t: Ticket; save: (p: TicketPatch) => Promise<boolean> }) {
  const text = useT();
  const [value, setValue] = useState('');
  return (
    <div class="ticket-tags">
      <ul class="chips" data-testid="ticket-tags">
        {t.tags.map((tag) => (
          <li class="chip" data-testid="ticket-tag" data-tag={tag}>
            <span class="ellipsis">{tag}</span>
            <button type="button" class="chip-x" aria-label={`${text.remove} ${tag}`} onClick={() => void save({ tags: t.tags.filter((x) => x !== tag) })}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <input
        value={value}
        placeholder={text.addTag}
        aria-label={text.addTag}
        onInput={(e) => setValue(e.currentTarget.value)}
        onKeyDown={async (e) => {
          if (e.key !== 'Enter' || e.isComposing) return;
          e.preventDefault();
          const added = parseTags(value).filter((x) => !t.tags.includes(x));
          if (!added.length) return setValue('');
          if (await save({ tags: [...t.tags, ...added] })) setValue('');
        }}
        data-testid="ticket-tag-input"
      />
    </div>
  );
}

function Fields({ t, dir, save }: { t: Ticket; dir: Directory; save: (p: TicketPatch) => Promise<boolean> }) {
  const text = useT();
  const agents = dir.users.filter((u) => u.active || u.id === t.assignee?.id);
  const hasAssignee = !t.assignee || agents.some((u) => u.id === t.assignee!.id);
  return (
    <section class="side-card">
      <label class="side-field">
        <span>{text.status}</span>
        <select value={t.status} onChange={(e) => void save({ status: e.currentTarget.value })} data-testid="ticket-status">
          {TICKET_STATUSES.map((s) => (
            <option value={s}>{text.ticketStatuses[s]}</option>
          ))}
        </select>
      </label>
      <label class="side-field">
        <span>{text.priority}</span>
        <select value={t.priority} onChange={(e) => void save({ priority: e.currentTarget.value })} data-testid="ticket-priority">
          {PRIORITIES.map((p) => (
            <option value={p}>{text.priorities[p]}</option>
          ))}
        </select>
      </label>
      <label class="side-field">
        <span>{text.assignee}</span>
        <select value={t.assignee?.id ?? ''} onChange={(e) => void save({ assignee_id: e.currentTarget.value || null })} data-testid="ticket-assignee">
          <option value="">{text.unassigned}</option>
          {!hasAssignee && <option value={t.assignee!.id}>{t.assignee!.name}</option>}
          {agents.map((u) => (
            <option value={u.id}>{u.id === store.me?.id ? `${u.name} (${text.you})` : u.name}</option>
          ))}
        </select>
      </label>
      <label class="side-field">
        <span>{text.team}</span>
        <select value={t.team_id ?? ''} onChange={(e) => void save({ team_id: e.currentTarget.value || null })} data-testid="ticket-team">
          <option value="">{text.noTeam}</option>
          {t.team_id && !dir.teams.some((x) => x.id === t.team_id) && <option value={t.team_id}>{t.team_id.slice(-4)}</option>}
          {dir.teams.map((x) => (
            <option value={x.id}>{x.name}</option>
          ))}
        </select>
      </label>
      <div class="side-field">
        <span>{text.tags}</span>
        <Tags t={t} save={save} />
      </div>
    </section>
  );
}

function Sla({ t, now }: { t: Ticket; now: number }) {
  const text = useT();
  const dues = { first_response: t.sla.first_response_due, next_response: t.sla.next_response_due, resolution: t.sla.resolution_due };
  const any = SLA_TARGETS.some((k) => dues[k]) || t.sla.breached.length > 0;
  return (
    <section class="side-card" data-testid="ticket-sla" data-state={t.sla.state}>
      <h4>{text.sla}</h4>
      {!any ? (
        <p class="muted small">{text.noSla}</p>
      ) : (
        <ul class="sla-list">
          {SLA_TARGETS.map((k) => {
            const state = targetState(t, k, now);
            const at = dues[k];
            return (
              <li data-testid={`ticket-sla-${k}`} data-state={state}>
                <span class="sla-name">{text.slaTargets[k]}</span>
                <span class={`sla-state ${state}`}>{text.targetStates[state]}</span>
                {at && (
                  <span class="sla-when small">
                    <time dateTime={at}>{fullDate(at, store.lang)}</time>
                    {(state === 'ok' || state === 'due_soon' || state === 'breached') && <span class={`sla-due ${state}`}> · {relativeDue(at, now, text, state === 'breached')}</span>}
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function Requester({ t }: { t: Ticket }) {
  const text = useT();
  const r = t.requester;
  return (
    <section class="side-card" data-testid="ticket-requester">
      <h4>{text.requester}</h4>
      {!r ? (
        <p class="muted small">{text.noRequester}</p>
      ) : (
        <>
          <div class="contact-head">
            <span class="avatar" aria-hidden="true">
              {[...r.name.trim()][0]?.toUpperCase() ?? '?'}
            </span>
            <span class="contact-name">{r.name}</span>
          </div>
          <div class="field">
            <span class="field-label">{text.email}</span>
            <span class="field-value">{r.email ?? <span class="muted">{text.notSet}</span>}</span>
          </div>
          <div class="field">
            <span class="field-label">{text.phone}</span>
            <span class="field-value">{r.phone ?? <span class="muted">{text.notSet}</span>}</span>
          </div>
        </>
      )}
      {t.conversation_id && (
        <div class="field">
          <span class="field-label">{text.fromChat}</span>
          <a
            class="field-value"
            href={`/app/c/${t.conversation_id}`}
            onClick={(e) => {
              e.preventDefault();
              store.navigate(`/app/c/${t.conversation_id}`);
            }}
            data-testid="ticket-conversation"
          >
            {text.openChat}
          </a>
        </div>
      )}
    </section>
  );
}

/** HH:MM today, else the date and HH:MM: a history spans days. */
const when = (iso: string) => (sameDay(iso, new Date().toISOString()) ? hhmm(iso, store.lang) : `${shortTime(iso, store.lang)} ${hhmm(iso, store.lang)}`);

function History({ events }: { events: TicketEvent[] }) {
  const text = useT();
  const lang = store.lang;
  return (
    <ol class="ticket-history" data-testid="ticket-history">
      {events.map((e) => {
        const line = historyLine(e, text);
        const time = (
          <time dateTime={e.created_at} title={fullDate(e.created_at, lang)}>
            {when(e.created_at)}
          </time>
        );
        if (e.kind === 'comment') {
          const side = e.actor.kind === 'contact' ? 'them' : 'us';
          return (
            <li key={e.id} class={`msg ${side} ${e.private ? 'note' : ''}`} data-testid="ticket-event" data-kind={e.private ? 'note' : 'reply'}>
              <div class="msg-meta">
                <span class="msg-sender">{e.actor.name}</span>
                {e.private && <span class="note-label">{text.internalNote}</span>}
                {time}
              </div>
              <div class="bubble">{e.content}</div>
            </li>
          );
        }
        return (
          <li key={e.id} class={`event-line ${e.kind}`} data-testid="ticket-event" data-kind={e.kind} data-field={e.field ?? undefined}>
            <span class="event-dot" aria-hidden="true" />
            <span class="event-text">{line}</span>
            {time}
          </li>
        );
      })}
    </ol>
  );
}

function CommentBox({ t, onSent }: { t: Ticket; onSent: (e: TicketEvent) => void }) {
  const text = useT();
  const [value, setValue] = useState('');
  const [note, setNote] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const send = async () => {
    if (!value.trim() || busy) return;
    setBusy(true);
    setError(null);
    try {
      const { event } = await rest.comment(t.id, value, note);
      setValue('');
      onSent(event);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class={`composer ticket-composer ${note ? 'note-mode' : ''}`}>
      <div class="composer-modes" role="radiogroup">
        <button type="button" role="radio" aria-checked={!note} class={`mode ${!note ? 'on' : ''}`} onClick={() => setNote(false)} data-testid="ticket-comment-reply-toggle">
          {text.reply}
        </button>
        <button type="button" role="radio" aria-checked={note} class={`mode note ${note ? 'on' : ''}`} onClick={() => setNote(!note)} data-testid="ticket-comment-private-toggle">
          {text.internalNote}
        </button>
      </div>
      <textarea
        rows={4}
        value={value}
        placeholder={note ? text.ticketNotePlaceholder : text.ticketReplyPlaceholder}
        aria-label={note ? text.internalNote : text.reply}
        onInput={(e) => setValue(e.currentTarget.value)}
        onKeyDown={(e) => {
          // Ticket replies are letters, not chat lines: Enter makes a new line, Ctrl/Cmd+Enter sends.
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.isComposing) {
            e.preventDefault();
            void send();
          }
        }}
        data-testid="ticket-comment"
      />
      <div class="composer-bar">
        <span class="form-error-slot">
          {error && (
            <span class="form-error inline" role="alert" data-testid="ticket-comment-error">
              {error}
            </span>
          )}
        </span>
        <button type="button" class={`btn ${note ? 'note-btn' : 'primary'}`} disabled={!value.trim() || busy} onClick={() => void send()} data-testid="ticket-comment-send">
          {note ? text.addNote : text.send}
        </button>
      </div>
    </div>
  );
}

export function TicketDetail({ id, dir }: { id: string; dir: Directory }) {
  const text = useT();
  const now = useNow();
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [events, setEvents] = useState<TicketEvent[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const request = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);

  const load = async () => {
    const n = ++request.current;
    try {
      const res = await rest.ticket(id);
      if (n !== request.current) return; // a newer refetch is on its way
      setTicket((old) => newer(old ?? undefined, res.ticket));
      setEvents(res.events);
      setLoadError(null);
    } catch (e) {
      if (n === request.current) setLoadError((e as Error).message);
    }
  };

  useEffect(() => {
    void load();
    return store.onTicket((t) => {
      if (!t) return void load();
      if (t.id !== id) return;
      setTicket((old) => newer(old ?? undefined, t));
      void load(); // the push carries the ticket, not the history entry that came with it
    });
  }, [id]);

  // The newest history is at the bottom, next to the reply box.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [events.length]);

  const save = async (patch: TicketPatch): Promise<boolean> => {
    setError(null);
    try {
      const { ticket: next } = await rest.updateTicket(id, patch);
      setTicket(next);
      void load();
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    }
  };

  if (!ticket) {
    return <div class="empty-state">{loadError ? <span class="form-error" data-testid="ticket-error">{loadError}</span> : <span class="muted">{text.loading}</span>}</div>;
  }
  const t = ticket;
  return (
    <div class="ticket-detail" data-testid="ticket-detail" data-ticket-id={t.id} data-status={t.status}>
      <div class="ticket-main">
        <div class="ticket-head">
          <a
            href="/app/tickets"
            class="back-link"
            onClick={(e) => {
              e.preventDefault();
              store.navigate('/app/tickets');
            }}
            data-testid="ticket-back"
          >
            {text.backToTickets}
          </a>
          <div class="ticket-title">
            <span class="ticket-number" data-testid="ticket-number">
              #{t.number}
            </span>
            <Subject t={t} save={save} />
          </div>
          <div class="conv-sub">
            <StatusPill status={t.status} />
            <PriorityPill priority={t.priority} />
            <span class="muted">
              {text.createdAt} {fullDate(t.created_at, store.lang)}
            </span>
          </div>
          {t.status === 'closed' && <div class="ticket-notice">{text.ticketClosedHint}</div>}
          {error && (
            <div class="form-error" role="alert" data-testid="ticket-error">
              {error}
            </div>
          )}
        </div>
        <div class="ticket-scroll" ref={scroller}>
          {t.description && <div class="ticket-description">{t.description}</div>}
          <h4 class="section-title">{text.history}</h4>
          <History events={events} />
        </div>
        <CommentBox
          t={t}
          onSent={(e) => {
            setEvents((list) => (list.some((x) => x.id === e.id) ? list : [...list, e]));
            void load(); // a reply can meet the first-response target
          }}
        />
      </div>
      <aside class="ticket-side">
        <Fields t={t} dir={dir} save={save} />
        <Sla t={t} now={now} />
        <Requester t={t} />
      </aside>
    </div>
  );
}
