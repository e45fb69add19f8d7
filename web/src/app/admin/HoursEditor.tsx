// A weekly calendar editor (on/off, time zone, up to four spans a day), shared by the widget's working hours
// (Inboxes) and a team's business hours (Teams), which the server reads in the same format.
import { useId } from 'preact/hooks';
import { useT } from '../hooks';
import { DAYS, type WorkingHours } from '../types';

const ZONES = ['Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Singapore', 'Asia/Tokyo', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'UTC'];

export function HoursEditor({
  value: h,
  onChange,
  legend,
  enabledLabel,
  testid = 'hours',
}: {
  value: WorkingHours;
  onChange: (h: WorkingHours) => void;
  legend: string;
  enabledLabel: string;
  /** Prefix of the controls' test ids: the Inboxes screen keeps its "hours-…" ones. */
  testid?: string;
}) {
  const text = useT();
  // Several editors can share a page (one per team): each needs its own time-zone list.
  const zones = useId();
  const setH = (patch: Partial<WorkingHours>) => onChange({ ...h, ...patch });
  return (
    <fieldset>
      <legend>{legend}</legend>
      <label class="check">
        <input type="checkbox" checked={h.enabled} onChange={(e) => setH({ enabled: e.currentTarget.checked })} data-testid={`${testid}-enabled`} />
        {enabledLabel}
      </label>
      <label class="row-label">
        {text.timezone}
        <input value={h.timezone} list={zones} onInput={(e) => setH({ timezone: e.currentTarget.value })} data-testid={`${testid}-timezone`} />
      </label>
      <datalist id={zones}>
        {ZONES.map((z) => (
          <option value={z} />
        ))}
      </datalist>
      <div class="days">
        {DAYS.map((d) => (
          <div class="day" key={d} data-testid={`${testid}-${d}`}>
            <span class="day-name">{text.days[d]}</span>
            <div class="spans">
              {h[d].length === 0 && <span class="muted small">{text.closedAllDay}</span>}
              {h[d].map((s, i) => (
                <span class="span" key={i}>
                  <input type="time" value={s.from} onInput={(e) => setH({ [d]: h[d].map((x, j) => (j === i ? { ...x, from: e.currentTarget.value } : x)) })} />
                  –
                  <input type="time" value={s.to === '24:00' ? '23:59' : s.to} onInput={(e) => setH({ [d]: h[d].map((x, j) => (j === i ? { ...x, to: e.currentTarget.value } : x)) })} />
                  <button type="button" class="icon-btn" aria-label={text.remove} onClick={() => setH({ [d]: h[d].filter((_, j) => j !== i) })}>
                    ×
                  </button>
                </span>
              ))}
              {h[d].length < 4 && (
                <button type="button" class="link small" onClick={() => setH({ [d]: [...h[d], { from: '09:00', to: '18:00' }] })}>
                  + {text.addSpan}
                </button>
              )}
            </div>
          </div>
        ))}
      </div>
    </fieldset>
  );
}
