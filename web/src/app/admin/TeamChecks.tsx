// The teams that answer an inbox, as checkboxes: used by the widget editor, every channel form's first card
// (inboxForm.tsx) and a new website inbox.
import { useT } from '../hooks';
import type { Team } from '../types';

export function TeamChecks({ teams, value, onChange, testid }: { teams: Team[]; value: string[]; onChange: (ids: string[]) => void; testid: string }) {
  const text = useT();
  return (
    <div class="row-label">
      {text.inboxTeams}
      <div class="checks">
        {teams.length === 0 && <span class="muted small">{text.noTeams}</span>}
        {teams.map((t) => (
          <label class="check">
            <input
              type="checkbox"
              checked={value.includes(t.id)}
              onChange={(e) => onChange(e.currentTarget.checked ? [...value, t.id] : value.filter((x) => x !== t.id))}
              data-testid={testid}
            />
            {t.name}
          </label>
        ))}
      </div>
    </div>
  );
}
