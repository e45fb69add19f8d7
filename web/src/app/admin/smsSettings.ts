// An SMS inbox on Twilio: its settings as the admin form edits them, and the body the server takes back. The
// server never returns the auth token and keeps the stored one when an edit leaves it out, so the form holds only
// what was typed and the body carries the token only then. Its settings reject unknown keys, so the body has
// exactly the keys below. Pure, so every rule here is unit-tested.

export const DEFAULT_TWILIO_API = 'https://api.twilio.com';

export interface SmsForm {
  /** `AC` and 32 hex digits. */
  account_sid: string;
  /** Empty = unchanged on an edit; required for a new inbox. */
  auth_token: string;
  /** E.164 (`+14155550100`); this or the messaging service, or both. */
  from_number: string;
  /** `MG` and 32 hex digits. */
  messaging_service_sid: string;
  api_base_url: string;
}

export type SmsField = 'name' | 'account_sid' | 'auth_token' | 'from_number' | 'messaging_service_sid' | 'api_base_url';

export function emptySmsForm(): SmsForm {
  return { account_sid: '', auth_token: '', from_number: '', messaging_service_sid: '', api_base_url: DEFAULT_TWILIO_API };
}

const str = (v: unknown, fallback = '') => (typeof v === 'string' ? v : fallback);

/** A stored inbox's settings in the form; the auth token box starts empty (= keep the stored one). */
export function readSms(settings: Record<string, unknown> | null | undefined): SmsForm {
  return {
    account_sid: str(settings?.account_sid),
    auth_token: '',
    from_number: str(settings?.from_number),
    messaging_service_sid: str(settings?.messaging_service_sid),
    api_base_url: str(settings?.api_base_url) || DEFAULT_TWILIO_API,
  };
}

/** A number as people write it, with the spaces, dashes and brackets Kefu takes out too. */
export const compactNumber = (v: string) => v.trim().replace(/[\s()-]/g, '');
/** E.164: `+`, then 7 to 15 digits, the first not 0. */
export const isE164 = (v: string) => /^\+[1-9]\d{6,14}$/.test(compactNumber(v));
const isSid = (prefix: string, v: string) => new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(v.trim());
const baseUrl = (v: string) => v.trim().replace(/\/+$/, '');

/**
 * What the form must have before it is sent, in the form's order: a quick answer in place; the server checks
 * again and its 422 names the field in its own words.
 */
export function problems(name: string, f: SmsForm, creating: boolean): SmsField[] {
  const out: SmsField[] = [];
  if (!name.trim()) out.push('name');
  if (!isSid('AC', f.account_sid)) out.push('account_sid');
  if (creating && !f.auth_token.trim()) out.push('auth_token');
  const number = f.from_number.trim();
  const service = f.messaging_service_sid.trim();
  // At least one way to send; whichever is given must be right.
  if ((number && !isE164(number)) || (!number && !service)) out.push('from_number');
  if (service && !isSid('MG', service)) out.push('messaging_service_sid');
  const url = baseUrl(f.api_base_url);
  if (!/^https?:\/\/[^\s?#]+$/.test(url) || url.length > 300) out.push('api_base_url');
  return out;
}

/** The form field a server 422 names ("settings.from_number is invalid: …"), to mark it; null when none does. */
export function fieldOfError(message: string): SmsField | null {
  const m = message.match(/^settings\.([a-z_]+)/);
  const k = m?.[1];
  return k === 'account_sid' || k === 'auth_token' || k === 'from_number' || k === 'messaging_service_sid' || k === 'api_base_url' ? k : null;
}

/** The settings to POST or PATCH: empty ways of sending are left out, the token goes only when typed. */
export function smsSettings(f: SmsForm): Record<string, unknown> {
  const out: Record<string, unknown> = { account_sid: f.account_sid.trim(), api_base_url: baseUrl(f.api_base_url) };
  if (f.from_number.trim()) out.from_number = compactNumber(f.from_number);
  if (f.messaging_service_sid.trim()) out.messaging_service_sid = f.messaging_service_sid.trim();
  if (f.auth_token.trim()) out.auth_token = f.auth_token.trim();
  return out;
}
