// Agents: the organisation's users with presence, a create form, inline role/capacity edits, (de)activation.
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import { store } from '../socket';
import type { Role, User } from '../types';
import { attempt, useLoad } from './useLoad';

const ROLES: Role[] = ['agent', 'supervisor', 'admin'];

function NewAgent({ onCreated }: { onCreated: () => void }) {
  const text = useT();
  const [f, setF] = useState({ email: '', name: '', password: '', role: 'agent' as Role, capacity: 5 });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<typeof f>) => setF({ ...f, ...patch });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const err = await attempt(() => rest.createUser({ ...f, email: f.email.trim(), name: f.name.trim() }));
    setBusy(false);
    setError(err);
    if (!err) {
      setF({ email: '', name: '', password: '', role: 'agent', capacity: 5 });
      onCreated();
    }
  };
  return (
    <form class="card form-grid" onSubmit={submit}>
      <h3>{text.newAgent}</h3>
      <label>
        {text.email}
        <input type="email" required value={f.email} onInput={(e) => set({ email: e.currentTarget.value })} data-testid="new-agent-email" />
      </label>
      <label>
        {text.name}
        <input required value={f.name} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="new-agent-name" />
      </label>
      <label>
        {text.password}
        <input type="password" required autocomplete="new-password" value={f.password} onInput={(e) => set({ password: e.currentTarget.value })} data-testid="new-agent-password" />
      </label>
      <label>
        {text.role}
        <select value={f.role} onChange={(e) => set({ role: e.currentTarget.value as Role })} data-testid="new-agent-role">
          {ROLES.map((r) => (
            <option value={r}>{text.roles[r]}</option>
          ))}
        </select>
      </label>
      <label>
        {text.capacity}
        <input type="number" min={0} max={1000} value={f.capacity} onInput={(e) => set({ capacity: Number(e.currentTarget.value) })} data-testid="new-agent-capacity" />
      </label>
      <div class="form-end">
        <button class="btn primary" type="submit" disabled={busy} data-testid="new-agent-submit">
          {text.create}
        </button>
      </div>
      {error && (
        <div class="form-error span-all" role="alert" data-testid="new-agent-error">
          {error}
        </div>
      )}
    </form>
  );
}

function Row({ u, onChanged, setError }: { u: User; onChanged: () => void; setError: (e: string | null) => void }) {
  const text = useT();
  const [capacity, setCapacity] = useState(String(u.capacity));
  const presence = store.colleagues.get(u.id) ?? u.presence;
  const write = async (fn: () => Promise<unknown>) => {
    const err = await attempt(fn);
    setError(err);
    onChanged();
  };
  return (
    <tr class={u.active ? '' : 'inactive'} data-testid="agent-row" data-user-id={u.id}>
      <td>
        <div class="cell-name">
          <span class={`dot ${u.active ? presence : ''}`} title={text.presence[presence]} />
          <span class="ellipsis" title={u.name}>
            {u.name}
          </span>
          {u.id === store.me?.id && <span class="tag">{text.you}</span>}
        </div>
      </td>
      <td class="ellipsis" title={u.email}>
        {u.email}
      </td>
      <td>{u.active ? text.presence[presence] : <span class="tag">{text.inactive}</span>}</td>
      <td>
        <select value={u.role} onChange={(e) => write(() => rest.updateUser(u.id, { role: e.currentTarget.value }))} data-testid="agent-role">
          {ROLES.map((r) => (
            <option value={r}>{text.roles[r]}</option>
          ))}
        </select>
      </td>
      <td>
        <input
          class="narrow"
          type="number"
          min={0}
          max={1000}
          value={capacity}
          onInput={(e) => setCapacity(e.currentTarget.value)}
          onChange={() => Number(capacity) !== u.capacity && write(() => rest.updateUser(u.id, { capacity: Number(capacity) }))}
          data-testid="agent-capacity"
        />
      </td>
      <td class="right">
        {u.active ? (
          <button type="button" class="btn small danger" onClick={() => write(() => rest.deactivateUser(u.id))} data-testid="agent-deactivate">
            {text.deactivate}
          </button>
        ) : (
          <button type="button" class="btn small" onClick={() => write(() => rest.updateUser(u.id, { active: true }))} data-testid="agent-reactivate">
            {text.reactivate}
          </button>
        )}
      </td>
    </tr>
  );
}

export function Agents() {
  const text = useT();
  const { data, error, reload, version } = useLoad(() => rest.users());
  const [rowError, setRowError] = useState<string | null>(null);
  return (
    <div class="admin-section">
      {error && <div class="form-error">{error}</div>}
      {rowError && (
        <div class="form-error" role="alert" data-testid="agents-error">
          {rowError}
        </div>
      )}
      <div class="card flush">
        <table class="table">
          <thead>
            <tr>
              <th>{text.name}</th>
              <th>{text.email}</th>
              <th>{text.status}</th>
              <th>{text.role}</th>
              <th>{text.capacity}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {!data ? (
              <tr>
                <td colSpan={6} class="muted">
                  {text.loading}
                </td>
              </tr>
            ) : (
              data.users.map((u) => <Row key={`${u.id}-${version}`} u={u} onChanged={reload} setError={setRowError} />)
            )}
          </tbody>
        </table>
      </div>
      <NewAgent onCreated={reload} />
    </div>
  );
}
