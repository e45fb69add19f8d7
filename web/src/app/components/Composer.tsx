// The reply box: Reply / Private note, Enter to send, typing signals, and the "/" canned-reply picker.
// It explains itself when the user may not write here (closed, queued, someone else's).
import { useEffect, useRef, useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import { oversees } from '../lists';
import { store } from '../socket';
import type { CannedReply, Conversation } from '../types';

// Drafts survive switching conversations (the composer is re-created per conversation).
const drafts = new Map<string, string>();
const TYPING_IDLE_MS = 4000;

/** The search of a "/query" at the start of the composer, or null when the picker should be closed. */
export const cannedQuery = (value: string): string | null => {
  const m = value.match(/^\/([^\n]*)$/);
  return m ? m[1] : null;
};

function CannedPicker({
  items,
  active,
  loading,
  onPick,
  onHover,
}: {
  items: CannedReply[];
  active: number;
  loading: boolean;
  onPick: (c: CannedReply) => void;
  onHover: (i: number) => void;
}) {
  const text = useT();
  const list = useRef<HTMLUListElement>(null);
  useEffect(() => {
    list.current?.children[active]?.scrollIntoView({ block: 'nearest' });
  }, [active]);
  return (
    <div class="canned-picker" data-testid="canned-picker">
      {items.length === 0 ? (
        <div class="muted canned-empty">{loading ? text.loading : text.cannedEmpty}</div>
      ) : (
        <ul ref={list} role="listbox">
          {items.map((c, i) => (
            <li
              key={c.id}
              role="option"
              aria-selected={i === active}
              class={i === active ? 'on' : ''}
              onMouseDown={(e) => {
                e.preventDefault(); // keep the textarea's focus
                onPick(c);
              }}
              onMouseEnter={() => onHover(i)}
              data-testid="canned-item"
            >
              <span class="canned-shortcut">/{c.shortcut}</span>
              <span class="canned-content">{c.content}</span>
              {c.shared && <span class="tag">{text.shared}</span>}
            </li>
          ))}
        </ul>
      )}
      <div class="canned-hint muted">{text.cannedHint}</div>
    </div>
  );
}

export function Composer({ conversation: c }: { conversation: Conversation }) {
  const text = useT();
  const me = store.me!;
  const [value, setValue] = useState(() => drafts.get(c.id) ?? '');
  const [note, setNote] = useState(false);
  const [canned, setCanned] = useState<CannedReply[]>([]);
  const [cannedLoading, setCannedLoading] = useState(false);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const idle = useRef<ReturnType<typeof setTimeout>>();

  const query = dismissed ? null : cannedQuery(value);
  useEffect(() => {
    if (query === null) return;
    setCannedLoading(true);
    const timer = setTimeout(() => {
      rest
        .cannedReplies(query.trim())
        .then(({ canned_replies }) => {
          setCanned(canned_replies);
          setActive(0);
        })
        .catch(() => setCanned([]))
        .finally(() => setCannedLoading(false));
    }, 150);
    return () => clearTimeout(timer);
  }, [query]);

  useEffect(() => () => {
    clearTimeout(idle.current);
    store.setTyping(c.id, false);
  }, [c.id]);

  // Who may write (docs/realtime.md §9): the assignee, or an overseer, and never into a closed conversation.
  let blocked: string | null = null;
  if (c.status === 'closed') blocked = text.closedHint;
  else if (c.status === 'queued' && !oversees(me)) blocked = text.queuedHint;
  else if (c.assignee && c.assignee.id !== me.id && !oversees(me)) blocked = text.notYoursHint;

  const update = (v: string) => {
    setValue(v);
    drafts.set(c.id, v);
    if (cannedQuery(v) === null) setDismissed(false);
    if (note) return; // the visitor never sees notes being typed
    clearTimeout(idle.current);
    if (v.trim()) {
      store.setTyping(c.id, true);
      idle.current = setTimeout(() => store.setTyping(c.id, false), TYPING_IDLE_MS);
    } else store.setTyping(c.id, false);
  };

  const send = () => {
    if (!value.trim() || blocked) return;
    void store.send(c.id, value, note);
    clearTimeout(idle.current);
    store.setTyping(c.id, false);
    update('');
    setValue('');
    drafts.delete(c.id);
  };

  const pick = (reply: CannedReply) => {
    update(reply.content);
    setDismissed(true);
    area.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (query !== null && !e.isComposing) {
      if (e.key === 'ArrowDown' && canned.length) {
        e.preventDefault();
        return setActive((active + 1) % canned.length);
      }
      if (e.key === 'ArrowUp' && canned.length) {
        e.preventDefault();
        return setActive((active - 1 + canned.length) % canned.length);
      }
      if ((e.key === 'Enter' || e.key === 'Tab') && canned.length && !e.shiftKey) {
        e.preventDefault();
        return pick(canned[Math.min(active, canned.length - 1)]);
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        return setDismissed(true);
      }
    }
    // isComposing: Enter also confirms a Chinese IME candidate, which must not send.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  };

  if (blocked) {
    return (
      <div class="composer blocked" data-testid="composer-blocked">
        <span>{blocked}</span>
        {c.status === 'closed' && (c.assignee?.id === me.id || oversees(me)) && (
          <button type="button" class="btn primary" onClick={() => store.reopen(c.id).catch(() => {})}>
            {text.reopen}
          </button>
        )}
      </div>
    );
  }

  return (
    <div class={`composer ${note ? 'note-mode' : ''}`}>
      {query !== null && (
        <CannedPicker items={canned} active={active} loading={cannedLoading} onPick={pick} onHover={setActive} />
      )}
      <div class="composer-modes" role="radiogroup">
        <button type="button" role="radio" aria-checked={!note} class={`mode ${!note ? 'on' : ''}`} onClick={() => setNote(false)} data-testid="reply-toggle">
          {text.reply}
        </button>
        <button
          type="button"
          role="radio"
          aria-checked={note}
          class={`mode note ${note ? 'on' : ''}`}
          onClick={() => {
            setNote(true);
            store.setTyping(c.id, false);
          }}
          data-testid="note-toggle"
        >
          {text.note}
        </button>
      </div>
      <textarea
        ref={area}
        rows={3}
        value={value}
        placeholder={note ? text.notePlaceholder : text.replyPlaceholder}
        onInput={(e) => update(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        onBlur={() => store.setTyping(c.id, false)}
        data-testid="composer"
        aria-label={note ? text.note : text.reply}
      />
      <div class="composer-bar">
        <span class="muted small">{[...value].length > 9000 ? `${[...value].length} / 10000` : ''}</span>
        <button type="button" class={`btn ${note ? 'note-btn' : 'primary'}`} disabled={!value.trim()} onClick={send} data-testid="send-button">
          {note ? text.addNote : text.send}
        </button>
      </div>
    </div>
  );
}
