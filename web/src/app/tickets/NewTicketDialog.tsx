// "New ticket": subject, description, the requester (a new or matched contact by name, email, phone),
// priority, team, assignee and tags. The server checks every field; its message shows above the buttons.
import { useEffect, useState } from 'preact/hooks';
import { rest, type NewTicket } from '../api';
import { useT } from '../hooks';
import { store } from '../socket';
import { parseTags } from '../tickets';
import { PRIORITIES, type Priority, type Ticket } from '../types';
import type { Directory } from './directory';

export function NewTicketDialog({ dir, onClose, onCreated }: { dir: Directory; onClose: () => void; onCreated: (t: Ticket) => void }) {
  const text = useT();
  const me = store.me!;
  const [f, setF] = useState({ subject: '', description: '', name: '', email: '', phone: '', priority: 'normal' as Priority, team: '', assignee: me.id, tags: '' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<typeof f>) => setF({ ...f, ...patch });

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const requester = { name: f.name.trim(), email: f.email.trim(), phone: f.phone.trim() };
    const body: NewTicket = {
      subject: f.subject.trim(),
      priority: f.priority,
      ...(f.description.trim() ? { description: f.description } : {}),
      // Only what was typed: the server matches or creates the contact from it.
      ...(requester.name || requester.email || requester.phone
        ? { requester: Object.fromEntries(Object.entries(requester).filter(([, v]) => v)) }
        : {}),
      ...(f.team ? { team_id: f.team } : {}),
      ...(f.assignee ? { assignee_id: f.assignee } : {}),
      ...(parseTags(f.tags).length ? { tags: parseTags(f.tags) } : {}),
    };
    try {
      const { ticket } = await rest.createTicket(body);
      onCreated(ticket);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  const agents = dir.users.filter((u) => u.active);
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <form class="modal new-ticket" role="dialog" aria-modal="true" aria-label={text.newTicket} onSubmit={submit} data-testid="new-ticket-form">
        <div class="modal-head">
          <h3>{text.newTicket}</h3>
          <button type="button" class="icon-btn" aria-label={text.cancel} onClick={onClose}>
            ×
          </button>
        </div>
        <div class="modal-body form-stack">
          <label>
            {text.subject}
            <input value={f.subject} autofocus maxLength={200} onInput={(e) => set({ subject: e.currentTarget.value })} data-testid="new-ticket-subject" />
          </label>
          <label>
            {text.description}
            <textarea rows={4} value={f.description} onInput={(e) => set({ description: e.currentTarget.value })} data-testid="new-ticket-description" />
          </label>
          <fieldset class="plain-fieldset">
            <legend>{text.requester}</legend>
            <div class="three">
              <label>
                {text.name}
                <input value={f.name} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="new-ticket-requester-name" />
              </label>
              <label>
                {text.email}
                <input type="email" value={f.email} onInput={(e) => set({ email: e.currentTarget.value })} data-testid="new-ticket-requester-email" />
              </label>
              <label>
                {text.phone}
                <input type="tel" value={f.phone} onInput={(e) => set({ phone: e.currentTarget.value })} data-testid="new-ticket-requester-phone" />
              </label>
            </div>
          </fieldset>
          <div class="three">
            <label>
              {text.priority}
              <select value={f.priority} onChange={(e) => set({ priority: e.currentTarget.value as Priority })} data-testid="new-ticket-priority">
                {PRIORITIES.map((p) => (
                  <option value={p}>{text.priorities[p]}</option>
                ))}
              </select>
            </label>
            <label>
              {text.team}
              <select value={f.team} onChange={(e) => set({ team: e.currentTarget.value })} data-testid="new-ticket-team">
                <option value="">{text.noTeam}</option>
                {dir.teams.map((t) => (
                  <option value={t.id}>{t.name}</option>
                ))}
              </select>
            </label>
            <label>
              {text.assignee}
              <select value={f.assignee} onChange={(e) => set({ assignee: e.currentTarget.value })} data-testid="new-ticket-assignee">
                <option value="">{text.unassigned}</option>
                <option value={me.id}>
                  {me.name} ({text.you})
                </option>
                {agents
                  .filter((u) => u.id !== me.id)
                  .map((u) => (
                    <option value={u.id}>{u.name}</option>
                  ))}
              </select>
            </label>
          </div>
          <label>
            {text.tags} <span class="muted small">({text.tagsHint})</span>
            <input value={f.tags} onInput={(e) => set({ tags: e.currentTarget.value })} data-testid="new-ticket-tags" />
          </label>
        </div>
        {error && (
          <div class="form-error" role="alert" data-testid="new-ticket-error">
            {error}
          </div>
        )}
        <div class="form-end gap">
          <button type="button" class="btn" onClick={onClose}>
            {text.cancel}
          </button>
          <button type="submit" class="btn primary" disabled={busy} data-testid="new-ticket-submit">
            {busy ? text.saving : text.create}
          </button>
        </div>
      </form>
    </div>
  );
}
