import { describe, expect, it } from 'vitest';
import { mergeWidget, readHours, readWidget } from './widgetSettings';

describe('widget settings', () => {
  it('fills in the server defaults', () => {
    const w = readWidget({});
    expect(w.color).toBe('#1677ff');
    expect(w.position).toBe('right');
    expect(w.language).toBe('auto');
    expect(w.pre_chat).toEqual({ enabled: false, fields: [] });
    expect(w.working_hours.timezone).toBe('Asia/Shanghai');
    expect(w.working_hours.mon).toEqual([{ from: '09:00', to: '18:00' }]);
    expect(w.working_hours.sat).toEqual([]);
  });

  it('reads what is set', () => {
    const w = readWidget({ widget: { color: '#ff0000', position: 'left', greeting: { en: 'Hi' }, working_hours: { enabled: true, sun: [{ from: '10:00', to: '12:00' }] } } });
    expect(w.color).toBe('#ff0000');
    expect(w.position).toBe('left');
    expect(w.greeting).toEqual({ 'zh-CN': '', en: 'Hi' });
    expect(w.working_hours.enabled).toBe(true);
    expect(w.working_hours.sun).toEqual([{ from: '10:00', to: '12:00' }]);
  });

  it('keeps every other key of settings, and unknown keys of the widget, when merging an edit', () => {
    const settings = { other: { a: 1 }, widget: { color: '#000000', future_key: true } };
    const merged = mergeWidget(settings, { ...readWidget(settings), color: '#123456' });
    expect(merged.other).toEqual({ a: 1 });
    expect((merged.widget as Record<string, unknown>).future_key).toBe(true);
    expect((merged.widget as Record<string, unknown>).color).toBe('#123456');
  });

  it("reads a team's business hours in the same format, around the clock when absent", () => {
    expect(readHours(null).enabled).toBe(false);
    const h = readHours({ enabled: true, timezone: 'Europe/Berlin', mon: [{ from: '08:00', to: '12:00' }, { from: '13:00', to: '17:00' }] });
    expect(h.timezone).toBe('Europe/Berlin');
    expect(h.mon).toHaveLength(2);
    expect(h.tue).toEqual([{ from: '09:00', to: '18:00' }]);
  });
});
