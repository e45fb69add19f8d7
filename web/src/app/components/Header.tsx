// The top bar: brand, the Workspace / Tickets / Admin links, the user's presence switch (always visible),
// language and logout.
import { useState } from 'preact/hooks';
import { useT } from '../hooks';
import { store } from '../socket';
import type { Lang, Presence } from '../types';

export function LangSwitch() {
  const text = useT();
  return (
    <select
      class="lang-switch"
      aria-label={text.language}
      value={store.lang}
      onChange={(e) => store.setLang(e.currentTarget.value as Lang)}
      data-testid="lang-switch"
    >
      <option value="zh-CN">中文</option>
      <option value="en">English</option>
    </select>
  );
}

const PRESENCES: Presence[] = ['online', 'away', 'offline'];

export function StatusSwitch() {
  const text = useT();
  const [error, setError] = useState<string | null>(null);
  return (
    <div
      class="status-switch"
      role="radiogroup"
      aria-label={text.status}
      aria-busy={store.presenceChanges > 0 ? 'true' : undefined}
      data-testid="status-switch"
      title={error ?? undefined}
    >
      {PRESENCES.map((p) => (
        <button
          type="button"
          role="radio"
          aria-checked={store.presence === p}
          class={`seg ${store.presence === p ? 'on' : ''}`}
          data-status={p}
          data-testid={`status-${p}`}
          onClick={() => {
            setError(null);
            store.setStatus(p).catch((e: Error) => setError(e.message));
          }}
        >
          <span class={`dot ${p}`} aria-hidden="true" />
          {text.presence[p]}
        </button>
      ))}
      {error && <span class="status-error">!</span>}
    </div>
  );
}

export function Header() {
  const text = useT();
  const me = store.me!;
  const inAdmin = store.path.startsWith('/app/admin');
  const inTickets = store.path.startsWith('/app/tickets');
  return (
    <header class="topbar">
      <a
        class="brand"
        href="/app/"
        onClick={(e) => {
          e.preventDefault();
          store.navigate('/app/');
        }}
      >
        <span class="logo" aria-hidden="true">
          K
        </span>
        {text.appName}
      </a>
      <nav class="topnav">
        <a
          href="/app/"
          class={!inAdmin && !inTickets ? 'active' : ''}
          onClick={(e) => {
            e.preventDefault();
            store.navigate('/app/');
          }}
          data-testid="nav-workspace"
        >
          {text.workspace}
        </a>
        <a
          href="/app/tickets"
          class={inTickets ? 'active' : ''}
          onClick={(e) => {
            e.preventDefault();
            store.navigate('/app/tickets');
          }}
          data-testid="tickets-nav"
        >
          {text.tickets}
        </a>
        {me.role === 'admin' && (
          <a
            href="/app/admin/agents"
            class={inAdmin ? 'active' : ''}
            onClick={(e) => {
              e.preventDefault();
              store.navigate('/app/admin/agents');
            }}
            data-testid="nav-admin"
          >
            {text.admin}
          </a>
        )}
      </nav>
      <div class="spacer" />
      <StatusSwitch />
      <LangSwitch />
      <div class="me" title={me.email}>
        <span class="avatar" aria-hidden="true">
          {initial(me.name)}
        </span>
        <span class="me-name">{me.name}</span>
      </div>
      <button type="button" class="btn ghost" onClick={() => void store.logout()} data-testid="logout">
        {text.logout}
      </button>
    </header>
  );
}

export const initial = (name: string) => [...name.trim()][0]?.toUpperCase() ?? '?';
