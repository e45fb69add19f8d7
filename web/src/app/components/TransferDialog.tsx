// Transfer: pick an active colleague (with their presence, live from pushes) or a team's queue.
import { useEffect, useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import { store } from '../socket';
import type { Conversation, Team, User } from '../types';

export function TransferDialog({ conversation: c, onClose }: { conversation: Conversation; onClose: () => void }) {
  const text = useT();
  const [users, setUsers] = useState<User[] | null>(null);
  const [teams, setTeams] = useState<Team[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    rest.users().then(({ users }) => setUsers(users), (e: Error) => setError(e.message));
    rest.teams().then(({ teams }) => setTeams(teams), (e: Error) => setError(e.message));
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const go = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      onClose();
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };

  const presence = (u: User) => store.colleagues.get(u.id) ?? u.presence;
  const order = { online: 0, away: 1, offline: 2 };
  const agents = (users ?? [])
    .filter((u) => u.active && u.id !== c.assignee?.id)
    .sort((a, b) => order[presence(a)] - order[presence(b)] || a.name.localeCompare(b.name));

  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="modal" role="dialog" aria-modal="true" aria-label={text.transferTitle} data-testid="transfer-dialog">
        <div class="modal-head">
          <h3>{text.transferTitle}</h3>
          <button type="button" class="icon-btn" aria-label={text.cancel} onClick={onClose}>
            ×
          </button>
        </div>
        {error && (
          <div class="form-error" role="alert" data-testid="transfer-error">
            {error}
          </div>
        )}
        <div class="modal-body transfer-cols">
          <section>
            <h4>{text.toAgent}</h4>
            {!users ? (
              <p class="muted">{text.loading}</p>
            ) : agents.length === 0 ? (
              <p class="muted">{text.noAgents}</p>
            ) : (
              <ul class="pick-list">
                {agents.map((u) => (
                  <li key={u.id}>
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => go(() => store.transferToAgent(c.id, u.id))}
                      data-testid="transfer-agent"
                      data-user-id={u.id}
                    >
                      <span class={`dot ${presence(u)}`} aria-hidden="true" />
                      <span class="pick-name">
                        {u.name}
                        {u.id === store.me?.id ? ` (${text.you})` : ''}
                      </span>
                      <span class="muted small">{text.presence[presence(u)]}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section>
            <h4>{text.toTeam}</h4>
            {!teams ? (
              <p class="muted">{text.loading}</p>
            ) : teams.length === 0 ? (
              <p class="muted">{text.noTeams}</p>
            ) : (
              <ul class="pick-list">
                {teams.map((team) => (
                  <li key={team.id}>
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => go(() => store.transferToTeam(c.id, team.id))}
                      data-testid="transfer-team"
                      data-team-id={team.id}
                    >
                      <span class="pick-name">{team.name}</span>
                      <span class="muted small">{text.members(team.members.length)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      </div>
    </div>
  );
}
