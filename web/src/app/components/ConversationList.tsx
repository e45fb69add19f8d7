// The left column: Mine / Queue / All / Closed tabs with counts, and each list's items with unread badges.
import { useState } from 'preact/hooks';
import { shortTime } from '../format';
import { useT } from '../hooks';
import { contactName, listsFor, unread, type ListKey } from '../lists';
import { store } from '../socket';
import type { Conversation } from '../types';

const TAB_KEY = 'kefu.list_tab';

function Item({ c, active }: { c: Conversation; active: boolean }) {
  const text = useT();
  const me = store.me!;
  const n = unread(c, me);
  const preview = store.previews.get(c.id);
  const name = contactName(c, text.visitor);
  return (
    <li>
      <button
        type="button"
        class={`conv-item ${active ? 'active' : ''} ${n > 0 ? 'has-unread' : ''}`}
        onClick={() => store.select(c.id)}
        data-testid="conversation-item"
        data-conversation-id={c.id}
        aria-current={active ? 'true' : undefined}
      >
        <span class="avatar" aria-hidden="true">
          {[...name][0]?.toUpperCase()}
        </span>
        <span class="conv-main">
          <span class="conv-line">
            <span class="conv-name" title={name}>
              {name}
            </span>
            <time class="conv-time" dateTime={c.updated_at}>
              {shortTime(c.updated_at, store.lang)}
            </time>
          </span>
          <span class="conv-line">
            <span class="conv-preview">
              {preview ? (
                <>
                  {preview.private && <span class="note-mark">{text.privatePreview}</span>}
                  {preview.text.split('\n')[0]}
                </>
              ) : (
                <span class="muted">
                  {c.status === 'queued' && c.queue_position ? text.queuePosition(c.queue_position) : c.assignee?.name ?? text.statuses[c.status]}
                </span>
              )}
            </span>
            {n > 0 && (
              <span class="badge" data-testid="unread-badge" title={text.unreadCount(n)}>
                {n > 99 ? '99+' : n}
              </span>
            )}
          </span>
          <span class={`status-pill ${c.status}`}>{text.statuses[c.status]}</span>
        </span>
      </button>
    </li>
  );
}

export function ConversationList() {
  const text = useT();
  const me = store.me!;
  const keys = listsFor(me);
  const [tab, setTab] = useState<ListKey>(() => {
    const saved = sessionStorage.getItem(TAB_KEY) as ListKey | null;
    return saved && keys.includes(saved) ? saved : 'mine';
  });
  const current = keys.includes(tab) ? tab : 'mine';
  const list = store.lists[current];
  const choose = (k: ListKey) => {
    setTab(k);
    sessionStorage.setItem(TAB_KEY, k);
  };
  return (
    <nav class="pane list-pane" aria-label={text.lists[current]}>
      <div class="tabs" role="tablist">
        {keys.map((k) => {
          const l = store.lists[k];
          const unreadHere = k === 'closed' ? 0 : l.items.reduce((sum, c) => sum + (unread(c, me) > 0 ? 1 : 0), 0);
          return (
            <button
              type="button"
              role="tab"
              aria-selected={k === current}
              class={`tab ${k === current ? 'on' : ''}`}
              onClick={() => choose(k)}
              data-testid={`list-tab-${k}`}
            >
              {text.lists[k]}
              <span class={`count ${unreadHere ? 'hot' : ''}`} data-testid={`list-count-${k}`}>
                {l.items.length}
                {l.more ? '+' : ''}
              </span>
            </button>
          );
        })}
      </div>
      {list.error && <div class="form-error list-error">{list.error}</div>}
      {list.items.length === 0 ? (
        <div class="empty-list muted">{list.loading ? text.loading : text.emptyList[current]}</div>
      ) : (
        <ul class="conv-list" data-testid={`list-${current}`}>
          {list.items.map((c) => (
            <Item key={c.id} c={c} active={c.id === store.selectedId} />
          ))}
        </ul>
      )}
    </nav>
  );
}
