import { describe, expect, it } from 'vitest';
import { t } from './i18n';
import { recheckIn, untilTime, windowHours, windowProvider, windowView } from './replyWindow';

const en = t('en');
const zh = t('zh-CN');
// Local times, so the expectations do not depend on the machine's time zone.
const now = new Date(2025, 2, 3, 9, 0);
const at = (d: number, h: number, m: number) => new Date(2025, 2, d, h, m).toISOString();

describe('reply window', () => {
  it('says until when replies are allowed and how many are left', () => {
    const w = { open: true, closes_at: at(3, 14, 30), remaining: 3 };
    expect(windowView(w, en, 'en', 48, now)).toEqual({ open: true, text: 'Replies allowed until 14:30 · 3 left' });
    expect(windowView(w, zh, 'zh-CN', 48, now)).toEqual({ open: true, text: '可回复至 14:30 · 剩余 3 条' });
    const later = windowView({ open: true, closes_at: at(5, 8, 5), remaining: 1 }, en, 'en', 48, now);
    expect(later.text).toMatch(/^Replies allowed until Mar 5, 08:05 · 1 left$/);
    expect(windowView({ open: true, closes_at: at(5, 8, 5), remaining: 1 }, zh, 'zh-CN', 48, now).text).toMatch(/^可回复至 3月5日 08:05 · 剩余 1 条$/);
  });

  it('gives the reason replies are closed, with the inbox\'s hours', () => {
    const closed = (reason?: 'expired' | 'quota' | 'never_written') => ({ open: false, closes_at: null, remaining: 0, reason });
    expect(windowView(closed('expired'), en, 'en', 48, now)).toEqual({
      open: false,
      text: 'The customer has not written in the last 48 hours: WeChat allows no reply until they write again.',
    });
    expect(windowView(closed('expired'), zh, 'zh-CN', 24, now).text).toBe('客户最近 24 小时内没有发来消息：在客户再次发消息之前，微信不允许回复。');
    expect(windowView(closed('quota'), en, 'en', 48, now).text).toBe('The replies WeChat allows are used up until the customer writes again.');
    expect(windowView(closed('quota'), zh, 'zh-CN', 48, now).text).toBe('微信允许的回复条数已用完，需等客户再次发消息。');
    expect(windowView(closed('never_written'), en, 'en', 48, now).text).toBe('The customer has not written yet: WeChat allows a reply only after they write.');
    expect(windowView(closed(), en, 'en', 48, now).text).toBe('WeChat allows no reply until the customer writes again.');
  });

  it('names Weibo for Weibo\'s window, which counts no replies', () => {
    const open = { open: true, closes_at: at(3, 14, 30), remaining: null };
    expect(windowView(open, en, 'en', 48, now, 'weibo').text).toBe('Replies allowed until 14:30');
    expect(windowView(open, zh, 'zh-CN', 48, now, 'weibo').text).toBe('可回复至 14:30');
    const expired = { open: false, closes_at: at(1, 9, 0), remaining: 0, reason: 'expired' as const };
    expect(windowView(expired, en, 'en', 48, now, 'weibo').text).toBe('The customer has not written in the last 48 hours: Weibo allows no reply until they write again.');
    expect(windowView(expired, zh, 'zh-CN', 48, now, 'weibo').text).toBe('客户最近 48 小时内没有发来消息：在客户再次发消息之前，微博不允许回复。');
    expect([windowProvider('wecom'), windowProvider('weibo'), windowProvider('web')]).toEqual(['wechat', 'weibo', null]);
  });

  it('reads the window\'s hours from the inbox, 48 when not known', () => {
    expect(windowHours({ window_hours: 12 })).toBe(12);
    expect(windowHours({})).toBe(48);
    expect(windowHours(undefined)).toBe(48);
  });

  it('names the year of a far date, and only the time today', () => {
    expect(untilTime(at(3, 23, 59), 'en', now)).toBe('23:59');
    expect(untilTime(new Date(2026, 0, 2, 10, 0).toISOString(), 'en', now)).toMatch(/2026/);
  });

  it('looks again a second after an open window ends, and not at all for a closed one', () => {
    const nowMs = Date.parse('2025-03-03T09:00:00Z');
    expect(recheckIn({ open: true, closes_at: '2025-03-03T10:00:00Z', remaining: 2 }, nowMs)).toBe(3_600_000 + 1000);
    expect(recheckIn({ open: true, closes_at: '2025-03-03T08:00:00Z', remaining: 2 }, nowMs)).toBe(1000);
    expect(recheckIn({ open: true, closes_at: '2025-06-03T10:00:00Z', remaining: 2 }, nowMs)).toBe(2 ** 31 - 1);
    expect(recheckIn({ open: false, closes_at: '2025-03-03T10:00:00Z', remaining: 0, reason: 'quota' }, nowMs)).toBe(null);
    expect(recheckIn({ open: true, closes_at: null, remaining: 2 }, nowMs)).toBe(null);
  });
});
