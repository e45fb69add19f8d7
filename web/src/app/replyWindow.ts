// A channel's reply window as the composer shows it (WeChat: the account may answer within some hours of the
// customer's last message, a few times, then must wait for them to write again): the line under an open reply
// box, or the reason it is closed, and when to look again on its own. Pure, so the wording rules are unit-tested.
import { hhmm } from './format';
import type { Strings } from './i18n';
import type { Lang, ReplyWindow, WindowProvider } from './types';

export type WindowView = { open: true; text: string } | { open: false; text: string };

/** The default window of a WeChat inbox, for an inbox whose settings are not known. */
export const DEFAULT_WINDOW_HOURS = 48;

/** When the window closes: "14:30" today, else "Mar 5, 14:30" / "3月5日 14:30". */
export function untilTime(iso: string, lang: Lang, now = new Date()): string {
  const d = new Date(iso);
  if (d.toDateString() === now.toDateString()) return hhmm(iso, lang);
  return d.toLocaleString(lang, {
    ...(d.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
}

/** The hours a window lasts, from the inbox's settings (`window_hours`). */
export function windowHours(settings: Record<string, unknown> | null | undefined): number {
  const h = settings?.window_hours;
  return typeof h === 'number' && h > 0 ? h : DEFAULT_WINDOW_HOURS;
}

/**
 * "Replies allowed until 14:30 · 3 left" while it is open; closed, why: the customer's last message is more than
 * `hours` old, the replies it allows are used up, or the customer has never written.
 */
export function windowView(
  w: ReplyWindow,
  text: Strings,
  lang: Lang,
  hours: number,
  now = new Date(),
  provider: WindowProvider = 'wechat',
): WindowView {
  if (w.open) {
    if (!w.closes_at) return { open: true, text: text.windowLeft(w.remaining ?? 0) };
    const until = untilTime(w.closes_at, lang, now);
    // Weibo counts no replies: only the time matters.
    return { open: true, text: w.remaining === null ? text.windowOpenUntil(until) : text.windowOpen(until, w.remaining) };
  }
  const who = text.windowProvider[provider];
  const reason =
    w.reason === 'expired'
      ? text.windowExpired(hours, who)
      : w.reason === 'quota'
        ? text.windowQuota(who)
        : w.reason === 'never_written'
          ? text.windowNeverWritten(who)
          : text.windowClosed(who);
  return { open: false, text: reason };
}

/** Whose window an inbox's conversations have; null for channels without one. */
export function windowProvider(kind: string | undefined): WindowProvider | null {
  if (kind === 'wechat' || kind === 'wecom') return 'wechat';
  if (kind === 'weibo') return 'weibo';
  return null;
}

/** Longest timer a browser keeps (about 24.8 days); a later close is looked at again after that. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * How long until an open window closes on its own, plus a second for the server's clock to agree, so the composer
 * can ask again then; null when nothing would change without a message.
 */
export function recheckIn(w: ReplyWindow, nowMs = Date.now()): number | null {
  if (!w.open || !w.closes_at) return null;
  const at = Date.parse(w.closes_at);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(at - nowMs, 0) + 1000, MAX_TIMER_MS);
}
