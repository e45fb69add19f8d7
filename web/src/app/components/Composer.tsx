// The reply box: Reply / Private note, Enter to send, typing signals, the "/" canned-reply picker, and the
// paperclip, which sends a file as a message of its own (when the channel cannot carry it, its limits show above the
// box). It explains itself when the user may not write here (closed, queued, someone else's), and for a channel with
// a reply window (WeChat) says until when and how many replies are left, or why replies are closed for now (notes
// stay open: they never leave Kefu).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, rest } from '../api';
import { MAX_FILE_BYTES, fileClientId, retryable } from '../files';
import { useT } from '../hooks';
import { oversees } from '../lists';
import { recheckIn, windowHours, windowProvider, windowView } from '../replyWindow';
import { store } from '../socket';
import type { CannedReply, Conversation, ReplyWindow } from '../types';

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

/**
 * The conversation's reply window while `on` (a WeChat conversation one may write in): asked when it opens, after
 * each message pushed in it, when an open window reaches its end, and on `recheck()`. null: none, or not known yet
 * (the server still refuses a reply it must).
 */
function useReplyWindow(id: string, on: boolean): [ReplyWindow | null, () => void] {
  const [w, setW] = useState<ReplyWindow | null>(null);
  const [asked, setAsked] = useState(0);
  const latest = useRef(0);
  const tick = store.messageTicks.get(id) ?? 0;
  useEffect(() => {
    const n = ++latest.current;
    if (!on) return setW(null);
    rest.replyWindow(id).then(
      // Only the latest answer counts: a slow one must not undo what a later message changed.
      ({ reply_window }) => n === latest.current && setW(reply_window),
      () => {},
    );
  }, [id, on, tick, asked]);
  useEffect(() => {
    const ms = w && recheckIn(w);
    if (ms == null) return;
    const timer = setTimeout(() => setAsked((x) => x + 1), ms);
    return () => clearTimeout(timer);
  }, [w]);
  useEffect(() => () => void (latest.current = -1), []);
  return [w, () => setAsked((x) => x + 1)];
}

/** A file that did not go: the reason, and the same send (same client id) when trying again may help. */
interface FileFailure {
  message: string;
  retry: { file: File; note: boolean; clientId: string } | null;
}

/** Drawn, not an emoji: support desks often lack a colour-emoji font. */
const Paperclip = () => (
  <svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
    <path d="m21.4 11.1-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5" />
  </svg>
);

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
  const picker = useRef<HTMLInputElement>(null);
  const [sendingFile, setSendingFile] = useState<string | null>(null);
  const [fileFailure, setFileFailure] = useState<FileFailure | null>(null);
  const idle = useRef<ReturnType<typeof setTimeout>>();
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

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

  const inbox = store.inbox(c.inbox_id);
  const provider = windowProvider(inbox?.kind);
  const [replyWindow, recheck] = useReplyWindow(c.id, provider !== null && !blocked);
  const windowLine =
    replyWindow && windowView(replyWindow, text, store.lang, windowHours(inbox?.settings), new Date(), provider ?? 'wechat');
  // A closed window stops replies only: a private note never leaves Kefu.
  const replyClosed = !note && windowLine !== null && !windowLine.open;

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
    if (!value.trim() || blocked || replyClosed) return;
    const content = value;
    const clientId = crypto.randomUUID();
    void store.send(c.id, content, note, clientId).then((code) => {
      if (code !== 'reply_window_closed') return;
      // The window closed under the agent: the words go back into the box (unless something new was typed
      // since; then they stay on the failed message, with Retry), and the reason shows.
      if (!(drafts.get(c.id) ?? '').trim()) {
        drafts.set(c.id, content);
        store.discard(c.id, clientId);
        if (alive.current) setValue(content);
      }
      if (alive.current) recheck();
    });
    clearTimeout(idle.current);
    store.setTyping(c.id, false);
    setFileFailure(null);
    update('');
    setValue('');
    drafts.delete(c.id);
  };

  // The typed words stay in the box: a file is a message of its own.
  const sendFile = async (file: File, asNote: boolean, clientId = fileClientId()) => {
    setFileFailure(null);
    if (file.size > MAX_FILE_BYTES) return setFileFailure({ message: text.fileTooLarge, retry: null });
    setSendingFile(file.name);
    try {
      await store.sendFile(c.id, file, asNote, clientId);
    } catch (e) {
      if (!alive.current) return;
      const status = e instanceof ApiError ? e.status : 0;
      setFileFailure({ message: (e as Error).message, retry: retryable(status) ? { file, note: asNote, clientId } : null });
      if (e instanceof ApiError && e.code === 'reply_window_closed') recheck();
    } finally {
      if (alive.current) setSendingFile(null);
    }
  };

  const retry = fileFailure?.retry;

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
      {replyClosed && (
        <div class="window-closed" role="status" data-testid="reply-window-closed">
          {windowLine.text} <span class="window-note-hint">{text.windowNoteHint}</span>
        </div>
      )}
      {fileFailure && (
        <div class="form-error composer-error" role="alert" data-testid="composer-error">
          {fileFailure.message}
          {retry && (
            <button type="button" class="link" onClick={() => void sendFile(retry.file, retry.note, retry.clientId)}>
              {text.retry}
            </button>
          )}
          <button type="button" class="link muted" onClick={() => setFileFailure(null)}>
            {text.dismiss}
          </button>
        </div>
      )}
      <textarea
        ref={area}
        rows={3}
        value={value}
        disabled={replyClosed}
        placeholder={note ? text.notePlaceholder : text.replyPlaceholder}
        onInput={(e) => update(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        onBlur={() => store.setTyping(c.id, false)}
        data-testid="composer"
        aria-label={note ? text.note : text.reply}
      />
      <div class="composer-bar">
        <span class="composer-info muted small">
          {!note && windowLine?.open && <span data-testid="reply-window">{windowLine.text}</span>}
          {[...value].length > 9000 && <span>{`${[...value].length} / 10000`}</span>}
          {sendingFile && <span data-testid="file-sending">{text.sendingFile(sendingFile)}</span>}
        </span>
        <span class="composer-buttons">
          <input
            ref={picker}
            type="file"
            hidden
            disabled={replyClosed || !!sendingFile}
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              // Emptied, so choosing the same file again is a change too.
              e.currentTarget.value = '';
              if (file) void sendFile(file, note);
            }}
            data-testid="attach-input"
          />
          <button
            type="button"
            class={`icon-btn attach-btn ${sendingFile ? 'busy' : ''}`}
            aria-label={text.attachFile}
            title={text.attachFile}
            aria-busy={!!sendingFile}
            disabled={replyClosed || !!sendingFile}
            onClick={() => picker.current?.click()}
            data-testid="attach-button"
          >
            <Paperclip />
          </button>
          <button type="button" class={`btn ${note ? 'note-btn' : 'primary'}`} disabled={!value.trim() || replyClosed} onClick={send} data-testid="send-button">
            {note ? text.addNote : text.send}
          </button>
        </span>
      </div>
    </div>
  );
}
