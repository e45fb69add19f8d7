import { describe, expect, it } from 'vitest';
import { t } from '../i18n';
import { adminT } from './i18n';
import { WEBHOOK_EVENTS } from './webhooks';
import { INBOX_KINDS } from '../types';

const walk = (a: object, b: object, path: string) => {
  expect(Object.keys(b).sort(), path).toEqual(Object.keys(a).sort());
  for (const [k, v] of Object.entries(a)) {
    const w = (b as Record<string, unknown>)[k];
    expect(typeof w, `${path}.${k}`).toBe(typeof v);
    if (v && typeof v === 'object') walk(v, w as object, `${path}.${k}`);
    if (typeof v === 'string') expect((w as string).length, `${path}.${k}`).toBeGreaterThan(0);
  }
};

describe('admin words', () => {
  it('has every admin string in both languages', () => {
    walk(adminT('en'), adminT('zh-CN'), 'admin');
  });

  it('names every event and every inbox kind, in both languages', () => {
    for (const lang of ['en', 'zh-CN'] as const) {
      for (const e of WEBHOOK_EVENTS) expect(adminT(lang).eventNames[e], e).toBeTruthy();
      for (const k of INBOX_KINDS) {
        expect(t(lang).inboxKinds[k], k).toBeTruthy();
        expect(t(lang).inboxKindTags[k], k).toBeTruthy();
      }
    }
    expect(t('en').inboxKinds.twilio_sms).toBe('SMS (Twilio)');
    expect(t('zh-CN').inboxKinds.twilio_sms).toBe('短信（Twilio）');
    expect(t('en').inboxKinds.api).toBe('API (custom integration)');
    expect(t('zh-CN').inboxKinds.api).toBe('API（自定义集成）');
    expect(t('zh-CN').adminTabs.webhooks).toBe('Webhooks（事件推送）');
  });
});
