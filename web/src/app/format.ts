// Times, dates and browser names shown to agents, in the user's language. Pure, so they are unit-tested.
import type { Lang } from './types';

export const hhmm = (iso: string, lang: Lang) =>
  new Date(iso).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', hour12: false });

const dayKey = (d: Date) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
export const sameDay = (a: string, b: string) => dayKey(new Date(a)) === dayKey(new Date(b));

/** A list item's time: HH:MM today, otherwise the date. */
export function shortTime(iso: string, lang: Lang, now = new Date()): string {
  const d = new Date(iso);
  if (dayKey(d) === dayKey(now)) return hhmm(iso, lang);
  const sameYear = d.getFullYear() === now.getFullYear();
  return d.toLocaleDateString(lang, sameYear ? { month: 'short', day: 'numeric' } : { year: 'numeric', month: 'short', day: 'numeric' });
}

/** A date separator in the message list: "Today", "Yesterday" or the full date. */
export function dayLabel(iso: string, lang: Lang, words: { today: string; yesterday: string }, now = new Date()): string {
  const d = new Date(iso);
  if (dayKey(d) === dayKey(now)) return words.today;
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (dayKey(d) === dayKey(y)) return words.yesterday;
  return d.toLocaleDateString(lang, { year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' });
}

export const fullDate = (iso: string, lang: Lang) =>
  new Date(iso).toLocaleString(lang, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });

/** "Chrome 140" and "Linux" from a User-Agent; either may be null when not recognised. */
export function parseUserAgent(ua: string): { browser: string | null; os: string | null } {
  const pick = (re: RegExp, name: string) => {
    const m = ua.match(re);
    return m ? `${name} ${m[1]}` : null;
  };
  const browser =
    pick(/Edg(?:e|A|iOS)?\/(\d+)/, 'Edge') ??
    pick(/OPR\/(\d+)/, 'Opera') ??
    pick(/Firefox\/(\d+)/, 'Firefox') ??
    pick(/MicroMessenger\/(\d+)/, 'WeChat') ??
    pick(/(?:Chrome|CriOS)\/(\d+)/, 'Chrome') ??
    (/Safari\//.test(ua) ? pick(/Version\/(\d+(?:\.\d+)?)/, 'Safari') : null);
  let os: string | null = null;
  if (/Windows NT/.test(ua)) os = 'Windows';
  else if (/iPhone|iPad|iPod/.test(ua)) os = 'iOS';
  else if (/Mac OS X|Macintosh/.test(ua)) os = 'macOS';
  else if (/Android/.test(ua)) os = 'Android';
  else if (/CrOS/.test(ua)) os = 'ChromeOS';
  else if (/Linux/.test(ua)) os = 'Linux';
  return { browser, os };
}

export function summariseUserAgent(ua: string, on: (browser: string, os: string) => string): string {
  const { browser, os } = parseUserAgent(ua);
  if (browser && os) return on(browser, os);
  return browser ?? os ?? ua;
}
