// Teams: create, rename, delete, add or remove members, and each team's business hours (the calendar its
// tickets' SLA time counts in).
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import type { Team, User } from '../types';
import { HoursEditor } from './HoursEditor';
import { readHours } from './widgetSettings';
import { attempt, useLoad } from './useLoad';

function BusinessHours({ team, onSaved }: { team: Team; onSaved: () => void }) {
  const text = useT();
  const [open, setOpen] = useState(false);
  const [hours, setHours] = useState(() => readHours(team.business_hours));
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  // What the server holds: from the card's team, then from each save's answer (the list reloads after it).
  const [current, setCurrent] = useState(() => readHours(team.business_hours));
  return (
    <div class="team-hours">
      <button type="button" class="link small" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="team-hours-toggle">
        {open ? '▾' : '▸'} {text.businessHours}: {current.enabled ? current.timezone : text.aroundTheClock}
      </button>
      {open && (
        <form
          class="team-hours-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            const err = await attempt(async () => setCurrent(readHours((await rest.setBusinessHours(team.id, hours)).team.business_hours)));
            setBusy(false);
            setError(err);
            setSaved(!err);
            if (!err) onSaved();
          }}
        >
          <HoursEditor
            value={hours}
            onChange={(h) => {
              setHours(h);
              setSaved(false);
            }}
            legend={text.businessHours}
            enabledLabel={text.businessHoursEnabled}
            testid="team-hours"
          />
          {error && (
            <div class="form-error" role="alert" data-testid="team-hours-error">
              {error}
            </div>
          )}
          <div class="form-end gap">
            {saved && <span class="form-ok">{text.saved}</span>}
            <button type="submit" class="btn small primary" disabled={busy} data-testid="team-hours-save">
              {busy ? text.saving : text.save}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

function TeamCard({ team, users, onChanged, setError }: { team: Team; users: User[]; onChanged: () => void; setError: (e: string | null) => void }) {
  const text = useT();
  const [name, setName] = useState(team.name);
  const write = async (fn: () => Promise<unknown>) => {
    const err = await attempt(fn);
    setError(err);
    onChanged();
  };
  const byId = new Map(users.map((u) => [u.id, u]));
  const candidates = users.filter((u) => u.active && !team.members.includes(u.id));
  return (
    <div class="card team" data-testid="team-card" data-team-id={team.id}>
      <form
        class="team-head"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim() && name.trim() !== team.name) void write(() => rest.renameTeam(team.id, name.trim()));
        }}
      >
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} aria-label={text.name} data-testid="team-name" />
        <button type="submit" class="btn small" disabled={!name.trim() || name.trim() === team.name}>
          {text.rename}
        </button>
        <button
          type="button"
          class="btn small danger"
          onClick={() => confirm(text.confirmDelete(team.name)) && write(() => rest.deleteTeam(team.id))}
          data-testid="team-delete"
        >
          {text.delete}
        </button>
      </form>
      {team.members.length === 0 ? (
        <p class="muted small">{text.noMembers}</p>
      ) : (
        <ul class="chips">
          {team.members.map((id) => (
            <li class="chip" data-testid="team-member" data-user-id={id}>
              <span class="ellipsis">{byId.get(id)?.name ?? id.slice(-4)}</span>
              <button type="button" class="chip-x" aria-label={text.remove} onClick={() => write(() => rest.removeMember(team.id, id))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {candidates.length > 0 && (
        <select
          value=""
          onChange={(e) => {
            const id = e.currentTarget.value;
            if (id) void write(() => rest.addMember(team.id, id));
          }}
          data-testid="team-add-member"
        >
          <option value="">{text.addMember}</option>
          {candidates.map((u) => (
            <option value={u.id}>{u.name}</option>
          ))}
        </select>
      )}
      <BusinessHours team={team} onSaved={onChanged} />
    </div>
  );
}

export function Teams() {
  const text = useT();
  const teams = useLoad(() => rest.teams());
  const users = useLoad(() => rest.users());
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="admin-section">
      {(teams.error || users.error || error) && (
        <div class="form-error" role="alert" data-testid="teams-error">
          {error ?? teams.error ?? users.error}
        </div>
      )}
      <form
        class="card inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const err = await attempt(() => rest.createTeam(name.trim()));
          setError(err);
          if (!err) setName('');
          teams.reload();
        }}
      >
        <input placeholder={text.newTeam} value={name} onInput={(e) => setName(e.currentTarget.value)} required data-testid="new-team-name" />
        <button type="submit" class="btn primary" disabled={!name.trim()} data-testid="new-team-submit">
          {text.create}
        </button>
      </form>
      {!teams.data ? (
        <p class="muted">{text.loading}</p>
      ) : teams.data.teams.length === 0 ? (
        <p class="muted">{text.noTeams}</p>
      ) : (
        <div class="team-grid">
          {teams.data.teams.map((t) => (
            <TeamCard key={`${t.id}-${t.name}`} team={t} users={users.data?.users ?? []} onChanged={teams.reload} setError={setError} />
          ))}
        </div>
      )}
    </div>
  );
}
