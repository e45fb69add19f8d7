// A WeChat Official Account inbox's settings as the admin form edits them, and the body the server takes back.
// The server never returns the credentials (AppSecret, Token, EncodingAESKey) and keeps a stored one an edit leaves
// out, so the form holds only what was typed and the body carries a credential only then; `encoding_aes_key: ""`
// turns safe mode off. Its settings reject unknown keys, so the body has exactly the keys below. Pure, so every
// rule here is unit-tested.

export const DEFAULT_API_BASE_URL = 'https://api.weixin.qq.com';

export interface WechatForm {
  app_id: string;
  /** Empty = unchanged on an edit; required for a new inbox. */
  app_secret: string;
  /** Empty = unchanged on an edit; required for a new inbox. */
  token: string;
  /** Empty = plain mode for a new inbox, unchanged on an edit. */
  aes_key: string;
  /** On an edit of an inbox in safe mode: send `""` to turn it off. */
  safe_off: boolean;
  api_base_url: string;
  window_hours: string;
  window_messages: string;
  /** Sent to whoever follows the account; empty = none. At most 600 characters. */
  welcome_message: string;
}

export type WechatField =
  | 'name'
  | 'app_id'
  | 'app_secret'
  | 'token'
  | 'encoding_aes_key'
  | 'api_base_url'
  | 'window_hours'
  | 'window_messages'
  | 'welcome_message';

export function emptyWechatForm(): WechatForm {
  return { app_id: '', app_secret: '', token: '', aes_key: '', safe_off: false, api_base_url: DEFAULT_API_BASE_URL, window_hours: '48', window_messages: '5', welcome_message: '' };
}

const str = (v: unknown, fallback = '') => (typeof v === 'string' ? v : fallback);
const num = (v: unknown, fallback: string) => (typeof v === 'number' ? String(v) : fallback);

/** A stored inbox's settings in the form; the credential boxes start empty (= keep the stored ones). */
export function readWechat(settings: Record<string, unknown> | null | undefined): WechatForm {
  const d = emptyWechatForm();
  return {
    ...d,
    app_id: str(settings?.app_id),
    api_base_url: str(settings?.api_base_url, d.api_base_url) || d.api_base_url,
    window_hours: num(settings?.window_hours, d.window_hours),
    window_messages: num(settings?.window_messages, d.window_messages),
    welcome_message: str(settings?.welcome_message),
  };
}

/** Whether the stored inbox takes encrypted messages (an EncodingAESKey is kept). */
export const safeMode = (settings: Record<string, unknown> | null | undefined) => settings?.safe_mode === true;

const inRange = (v: string, min: number, max: number) => /^\d{1,4}$/.test(v.trim()) && +v >= min && +v <= max;
const baseUrl = (v: string) => v.trim().replace(/\/+$/, '');

/**
 * What the form must have before it is sent, in the form's order: a quick answer in place; the server checks
 * again and its 422 names the field in its own words.
 */
export function problems(name: string, f: WechatForm, creating: boolean): WechatField[] {
  const out: WechatField[] = [];
  if (!name.trim()) out.push('name');
  if (!/^[A-Za-z0-9_]{1,64}$/.test(f.app_id.trim())) out.push('app_id');
  if (creating && !f.app_secret.trim()) out.push('app_secret');
  const token = f.token.trim();
  if ((creating || token) && !/^[A-Za-z0-9]{3,32}$/.test(token)) out.push('token');
  const key = f.aes_key.trim();
  if (!f.safe_off && key && !/^[A-Za-z0-9+/]{43}$/.test(key)) out.push('encoding_aes_key');
  const url = baseUrl(f.api_base_url);
  if (!/^https?:\/\/[^\s?#]+$/.test(url) || url.length > 300) out.push('api_base_url');
  if (!inRange(f.window_hours, 1, 168)) out.push('window_hours');
  if (!inRange(f.window_messages, 1, 100)) out.push('window_messages');
  if ([...f.welcome_message.trim()].length > 600) out.push('welcome_message');
  return out;
}

const SERVER_FIELDS: Record<string, WechatField> = {
  'settings.app_id': 'app_id',
  'settings.app_secret': 'app_secret',
  'settings.token': 'token',
  'settings.encoding_aes_key': 'encoding_aes_key',
  'settings.api_base_url': 'api_base_url',
  'settings.window_hours': 'window_hours',
  'settings.window_messages': 'window_messages',
  'settings.welcome_message': 'welcome_message',
};

/** The form field a server 422 names ("settings.token is invalid: …"), to mark it; null when none does. */
export function fieldOfError(message: string): WechatField | null {
  const m = message.match(/^(settings\.[a-z_]+)/);
  return (m && SERVER_FIELDS[m[1]]) || null;
}

/**
 * The settings to POST or PATCH. Credentials go only when typed (PATCH keeps a stored one left out); the key goes
 * as `""` when safe mode is turned off.
 */
export function wechatSettings(f: WechatForm): Record<string, unknown> {
  const out: Record<string, unknown> = {
    app_id: f.app_id.trim(),
    api_base_url: baseUrl(f.api_base_url),
    window_hours: Number(f.window_hours),
    window_messages: Number(f.window_messages),
  };
  // Every setting that is not a credential goes each time: a PATCH replaces the settings, so one left out is lost.
  if (f.welcome_message.trim()) out.welcome_message = f.welcome_message.trim();
  if (f.app_secret.trim()) out.app_secret = f.app_secret.trim();
  if (f.token.trim()) out.token = f.token.trim();
  if (f.safe_off) out.encoding_aes_key = '';
  else if (f.aes_key.trim()) out.encoding_aes_key = f.aes_key.trim();
  return out;
}

/** What to paste into WeChat's server configuration: this server's address and the inbox's webhook path. */
export const webhookUrl = (origin: string, path: string) => `${origin.replace(/\/+$/, '')}${path}`;
