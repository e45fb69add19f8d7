// The inbox's settings.widget with the server's defaults filled in (docs/realtime.md §5.1), and the merge
// that keeps every other key of settings: PATCH replaces the whole settings object.
import { DAYS, type Localised, type WidgetSettings, type WorkingHours } from '../types';

const str = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);
const localised = (v: unknown): Localised => {
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  return { 'zh-CN': str(o['zh-CN'], ''), en: str(o.en, '') };
};

export function defaultHours(): WorkingHours {
  const weekday = () => [{ from: '09:00', to: '18:00' }];
  return { enabled: false, timezone: 'Asia/Shanghai', mon: weekday(), tue: weekday(), wed: weekday(), thu: weekday(), fri: weekday(), sat: [], sun: [] };
}

/** A weekly calendar as the server stores it (widget working hours, team business hours), defaults filled in. */
export function readHours(raw: unknown): WorkingHours {
  const wh = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const hours = defaultHours();
  hours.enabled = wh.enabled === true;
  hours.timezone = str(wh.timezone, hours.timezone);
  for (const d of DAYS) if (Array.isArray(wh[d])) hours[d] = (wh[d] as { from: string; to: string }[]).map((s) => ({ from: s.from, to: s.to }));
  return hours;
}

export function readWidget(settings: Record<string, unknown> | null | undefined): WidgetSettings {
  const w = ((settings?.widget && typeof settings.widget === 'object' ? settings.widget : {}) ?? {}) as Record<string, unknown>;
  const pre = (w.pre_chat && typeof w.pre_chat === 'object' ? w.pre_chat : {}) as Record<string, unknown>;
  return {
    color: str(w.color, '#1677ff'),
    position: w.position === 'left' ? 'left' : 'right',
    language: w.language === 'zh-CN' || w.language === 'en' ? w.language : 'auto',
    greeting: localised(w.greeting),
    pre_chat: {
      enabled: pre.enabled === true,
      fields: Array.isArray(pre.fields)
        ? (pre.fields as Record<string, unknown>[]).map((f) => ({ key: str(f.key, ''), required: f.required === true, label: localised(f.label) }))
        : [],
    },
    working_hours: readHours(w.working_hours),
    offline_message: localised(w.offline_message),
  };
}

/** The settings to PATCH: everything that was there, with settings.widget's known keys replaced by the edit. */
export function mergeWidget(settings: Record<string, unknown> | null | undefined, widget: WidgetSettings): Record<string, unknown> {
  const old = (settings?.widget && typeof settings.widget === 'object' ? settings.widget : {}) as Record<string, unknown>;
  return { ...(settings ?? {}), widget: { ...old, ...widget } };
}

export const BUILT_IN_FIELDS = ['name', 'email', 'phone'];
export const isHexColor = (v: string) => /^#[0-9a-fA-F]{6}$/.test(v);
