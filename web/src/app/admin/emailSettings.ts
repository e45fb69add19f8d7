// An email inbox's settings as the admin form edits them, and the body the server takes back. The server never
// returns passwords and keeps the stored one when an edit leaves it out, so the form holds only what was typed
// and the body carries a password only then. Its settings reject unknown keys, so the body is exactly imap, smtp
// and poll_interval_secs. Pure, so every rule here is unit-tested.
import type { ChannelState } from '../types';

export type Tls = 'none' | 'starttls' | 'tls';
export const TLS_MODES: Tls[] = ['none', 'starttls', 'tls'];

export interface ImapForm {
  host: string;
  port: string;
  tls: Tls;
  user: string;
  /** Empty = unchanged on an edit; required for a new inbox. */
  password: string;
  folder: string;
}

export interface SmtpForm {
  host: string;
  port: string;
  tls: Tls;
  /** Empty = the server takes mail without a login. */
  user: string;
  password: string;
  from_address: string;
  from_name: string;
}

export interface EmailForm {
  imap: ImapForm;
  smtp: SmtpForm;
  /** Seconds between looks for new mail when the server has no IDLE. */
  poll: string;
  /** Every new thread becomes a ticket, and the requester is mailed about it. */
  tickets: boolean;
}

/** The port each protocol uses by default with each kind of security. */
export function defaultPort(protocol: 'imap' | 'smtp', tls: Tls): number {
  if (protocol === 'imap') return tls === 'tls' ? 993 : 143;
  return tls === 'tls' ? 465 : tls === 'starttls' ? 587 : 25;
}

/**
 * The security changed: a port left at the old default (or empty) follows to the new one; a port the admin
 * typed is theirs and stays.
 */
export function withTls<T extends { port: string; tls: Tls }>(protocol: 'imap' | 'smtp', side: T, tls: Tls): T {
  const followed = side.port.trim() === '' || side.port.trim() === String(defaultPort(protocol, side.tls));
  return { ...side, tls, port: followed ? String(defaultPort(protocol, tls)) : side.port };
}

export function emptyEmailForm(): EmailForm {
  return {
    imap: { host: '', port: '993', tls: 'tls', user: '', password: '', folder: 'INBOX' },
    smtp: { host: '', port: '465', tls: 'tls', user: '', password: '', from_address: '', from_name: '' },
    poll: '60',
    tickets: false,
  };
}

const obj = (v: unknown) => (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
const str = (v: unknown, fallback = '') => (typeof v === 'string' ? v : fallback);
const num = (v: unknown, fallback: string) => (typeof v === 'number' ? String(v) : fallback);
const tls = (v: unknown, fallback: Tls): Tls => (TLS_MODES.includes(v as Tls) ? (v as Tls) : fallback);

/** A stored inbox's settings in the form; the password boxes start empty (= keep the stored ones). */
export function readEmail(settings: Record<string, unknown> | null | undefined): EmailForm {
  const d = emptyEmailForm();
  const imap = obj(settings?.imap);
  const smtp = obj(settings?.smtp);
  return {
    imap: {
      host: str(imap.host),
      port: num(imap.port, d.imap.port),
      tls: tls(imap.tls, d.imap.tls),
      user: str(imap.user),
      password: '',
      folder: str(imap.folder, d.imap.folder),
    },
    smtp: {
      host: str(smtp.host),
      port: num(smtp.port, d.smtp.port),
      tls: tls(smtp.tls, d.smtp.tls),
      user: str(smtp.user),
      password: '',
      from_address: str(smtp.from_address),
      from_name: str(smtp.from_name),
    },
    poll: num(settings?.poll_interval_secs, d.poll),
    tickets: settings?.tickets === true,
  };
}

export type EmailField =
  | 'name'
  | 'imap.host'
  | 'imap.port'
  | 'imap.user'
  | 'imap.password'
  | 'smtp.host'
  | 'smtp.port'
  | 'smtp.from_address'
  | 'poll';

const isPort = (v: string) => /^\d{1,5}$/.test(v.trim()) && +v >= 1 && +v <= 65535;

/**
 * What the form must have before it is sent, in the form's order: a quick answer in place; the server checks
 * again (host names, the address) and its 422 names the field in its own words.
 */
export function problems(name: string, f: EmailForm, creating: boolean): EmailField[] {
  const out: EmailField[] = [];
  if (!name.trim()) out.push('name');
  if (!f.imap.host.trim()) out.push('imap.host');
  if (!isPort(f.imap.port)) out.push('imap.port');
  if (!f.imap.user.trim()) out.push('imap.user');
  if (creating && !f.imap.password) out.push('imap.password');
  if (!f.smtp.host.trim()) out.push('smtp.host');
  if (!isPort(f.smtp.port)) out.push('smtp.port');
  if (!/^[^\s@]+@[^\s@]+$/.test(f.smtp.from_address.trim())) out.push('smtp.from_address');
  const poll = f.poll.trim();
  if (!/^\d+$/.test(poll) || +poll < 5 || +poll > 3600) out.push('poll');
  return out;
}

const SERVER_FIELDS: Record<string, EmailField> = {
  'settings.imap.host': 'imap.host',
  'settings.imap.user': 'imap.user',
  'settings.imap.password': 'imap.password',
  'settings.smtp.host': 'smtp.host',
  'settings.smtp.from_address': 'smtp.from_address',
  'settings.poll_interval_secs': 'poll',
};

/** The form field a server 422 names ("settings.imap.host is invalid: …"), to mark it; null when none does. */
export function fieldOfError(message: string): EmailField | null {
  const m = message.match(/^(settings\.[a-z_.]+)/);
  return (m && SERVER_FIELDS[m[1]]) || null;
}

/** The settings to POST or PATCH. Passwords go only when typed: PATCH keeps a stored password left out. */
export function emailSettings(f: EmailForm): Record<string, unknown> {
  const imap: Record<string, unknown> = {
    host: f.imap.host.trim(),
    port: Number(f.imap.port),
    tls: f.imap.tls,
    user: f.imap.user.trim(),
    folder: f.imap.folder.trim() || 'INBOX',
  };
  if (f.imap.password) imap.password = f.imap.password;
  const smtp: Record<string, unknown> = {
    host: f.smtp.host.trim(),
    port: Number(f.smtp.port),
    tls: f.smtp.tls,
    user: f.smtp.user.trim() || null,
    from_address: f.smtp.from_address.trim(),
    from_name: f.smtp.from_name.trim() || null,
  };
  if (f.smtp.password) smtp.password = f.smtp.password;
  return { imap, smtp, poll_interval_secs: Number(f.poll), tickets: f.tickets };
}

export type StateTone = 'ok' | 'connecting' | 'waiting' | 'error' | 'unknown';

/**
 * The dot's colour for any inbox's connection (email's IMAP session, WeChat calling the webhook): null (not looked
 * at yet) and unknown words show grey.
 */
export function stateTone(state: ChannelState | null | undefined): StateTone {
  const s = state?.status;
  return s === 'ok' || s === 'connecting' || s === 'waiting' || s === 'error' ? s : 'unknown';
}
