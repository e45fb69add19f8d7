// SLA policies: for each priority, the first-response, next-response and resolution targets in minutes or
// hours (empty = no target; a priority with none has no SLA). Counted by the server in business minutes of
// the ticket team's business hours (Teams tab).
import { useEffect, useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import { fromInput, toInput, type DurationInput, type Unit } from '../tickets';
import { PRIORITIES, type Priority, type SlaPolicy } from '../types';
import { attempt, useLoad } from './useLoad';

const TARGETS = ['first_response', 'next_response', 'resolution'] as const;
type Target = (typeof TARGETS)[number];
type Row = Record<Target, DurationInput>;
type Form = Record<Priority, Row>;

// Most urgent first: the order people think of them in.
const ORDER: Priority[] = [...PRIORITIES].reverse();

function toForm(policies: SlaPolicy[]): Form {
  const form = {} as Form;
  for (const p of PRIORITIES) {
    const found = policies.find((x) => x.priority === p);
    form[p] = {
      first_response: toInput(found?.first_response_mins),
      next_response: toInput(found?.next_response_mins),
      resolution: toInput(found?.resolution_mins),
    };
  }
  return form;
}

export function Sla() {
  const text = useT();
  const loaded = useLoad(() => rest.slaPolicies());
  const [form, setForm] = useState<Form | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (loaded.data) setForm(toForm(loaded.data.policies));
  }, [loaded.data]);

  if (loaded.error && !form) return <div class="form-error" data-testid="sla-error">{loaded.error}</div>;
  if (!form) return <p class="muted">{text.loading}</p>;

  const set = (p: Priority, k: Target, d: Partial<DurationInput>) => {
    setForm({ ...form, [p]: { ...form[p], [k]: { ...form[p][k], ...d } } });
    setSaved(false);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const policies: SlaPolicy[] = [];
    for (const p of PRIORITIES) {
      const mins = TARGETS.map((k) => fromInput(form[p][k]));
      if (mins.some((m) => Number.isNaN(m))) return setError(text.slaInvalid(text.priorities[p]));
      // A priority without any target is left out: no SLA for it.
      if (mins.every((m) => m === null)) continue;
      policies.push({ priority: p, first_response_mins: mins[0], next_response_mins: mins[1], resolution_mins: mins[2] });
    }
    setBusy(true);
    const err = await attempt(async () => setForm(toForm((await rest.saveSlaPolicies(policies)).policies)));
    setBusy(false);
    setError(err);
    setSaved(!err);
  };

  return (
    <form class="admin-section" onSubmit={save} data-testid="sla-form">
      <section class="card flush">
        <div class="card-pad">
          <h3>{text.slaTitle}</h3>
          <p class="muted small">{text.slaHint}</p>
        </div>
        <table class="table sla-table">
          <thead>
            <tr>
              <th>{text.priority}</th>
              {TARGETS.map((k) => (
                <th>{text.slaTargets[k]}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {ORDER.map((p) => (
              <tr data-testid="sla-row" data-priority={p}>
                <td>
                  <span class={`prio-pill p-${p}`}>{text.priorities[p]}</span>
                </td>
                {TARGETS.map((k) => (
                  <td>
                    <span class="sla-cell">
                      <input
                        inputMode="decimal"
                        value={form[p][k].value}
                        placeholder="—"
                        aria-label={`${text.priorities[p]} · ${text.slaTargets[k]}`}
                        onInput={(e) => set(p, k, { value: e.currentTarget.value })}
                        data-testid={`sla-${p}-${k}`}
                      />
                      <select value={form[p][k].unit} onChange={(e) => set(p, k, { unit: e.currentTarget.value as Unit })} aria-label={text.units[form[p][k].unit]} data-testid={`sla-${p}-${k}-unit`}>
                        <option value="min">{text.units.min}</option>
                        <option value="h">{text.units.h}</option>
                      </select>
                    </span>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <div class="sticky-save">
        {error && (
          <div class="form-error" role="alert" data-testid="sla-error">
            {error}
          </div>
        )}
        {saved && <span class="form-ok">{text.saved}</span>}
        <button type="submit" class="btn primary" disabled={busy} data-testid="sla-save">
          {busy ? text.saving : text.save}
        </button>
      </div>
    </form>
  );
}
