// The settings of the inbox kinds whose form is a plain list of fields (SMS on Aliyun, Weibo, WeCom customer
// service), as the admin form edits them, and the body the server takes back. Credentials (`secret` fields) are
// never returned by the server and kept when an edit leaves them out, so the form holds only what was typed and the
// body carries one only then; every other setting is always sent, because a PATCH replaces the settings and a key
// left out would be dropped. Pure, so every rule here is unit-tested.

export type ChannelKind = 'aliyun_sms' | 'weibo' | 'wecom';
export const CHANNEL_KINDS: ChannelKind[] = ['aliyun_sms', 'weibo', 'wecom'];
export const isChannelKind = (k: string): k is ChannelKind => (CHANNEL_KINDS as string[]).includes(k);

export interface ChannelFieldSpec {
  key: string;
  /** Never shown back; required for a new inbox; on an edit sent only when typed ("Unchanged"). */
  secret?: boolean;
  /** May be left empty (then left out of the body). */
  optional?: boolean;
  /** Under "Advanced". */
  advanced?: boolean;
  /** A whole number in [min, max], sent as a number. */
  range?: [number, number];
  /** What a new inbox starts with, and what an empty box falls back to. */
  default?: string;
  /** What a filled-in value must look like (after trimming). */
  pattern?: RegExp;
  placeholder?: string;
  /** A base URL: http(s), no query; a trailing slash is taken off. */
  url?: boolean;
}

export const CHANNEL_FIELDS: Record<ChannelKind, ChannelFieldSpec[]> = {
  aliyun_sms: [
    { key: 'access_key_id', pattern: /^[A-Za-z0-9]{1,128}$/, placeholder: 'LTAI…' },
    { key: 'access_key_secret', secret: true },
    { key: 'sign_name', pattern: /^.{1,64}$/u },
    { key: 'template_code', pattern: /^[A-Za-z0-9_]{1,64}$/, placeholder: 'SMS_123456' },
    { key: 'template_param', default: 'content', pattern: /^[A-Za-z0-9_]{1,64}$/ },
    { key: 'region_id', default: 'cn-hangzhou', pattern: /^[a-z0-9-]{1,64}$/ },
    { key: 'api_base_url', advanced: true, url: true, default: 'https://dysmsapi.aliyuncs.com' },
  ],
  weibo: [
    { key: 'app_secret', secret: true },
    { key: 'access_token', secret: true },
    { key: 'api_base_url', advanced: true, url: true, default: 'https://m.api.weibo.com' },
  ],
  wecom: [
    { key: 'corp_id', pattern: /^[A-Za-z0-9_-]{1,64}$/, placeholder: 'ww…' },
    { key: 'open_kfid', pattern: /^[A-Za-z0-9_-]{1,64}$/, placeholder: 'wk…' },
    { key: 'secret', secret: true },
    { key: 'token', secret: true, pattern: /^[A-Za-z0-9]{1,32}$/ },
    { key: 'encoding_aes_key', secret: true, pattern: /^[A-Za-z0-9]{43}$/ },
    { key: 'window_hours', range: [1, 168], default: '48' },
    { key: 'window_messages', range: [1, 100], default: '5' },
    { key: 'api_base_url', advanced: true, url: true, default: 'https://qyapi.weixin.qq.com' },
  ],
};

export type ChannelForm = Record<string, string>;

export function emptyChannelForm(kind: ChannelKind): ChannelForm {
  return Object.fromEntries(CHANNEL_FIELDS[kind].map((f) => [f.key, f.default ?? '']));
}

/** A stored inbox's settings in the form; the credential boxes start empty (= keep the stored ones). */
export function readChannel(kind: ChannelKind, settings: Record<string, unknown> | null | undefined): ChannelForm {
  const out = emptyChannelForm(kind);
  for (const f of CHANNEL_FIELDS[kind]) {
    if (f.secret) continue;
    const v = settings?.[f.key];
    if (typeof v === 'string' && v) out[f.key] = v;
    else if (typeof v === 'number') out[f.key] = String(v);
  }
  return out;
}

const baseUrl = (v: string) => v.trim().replace(/\/+$/, '');

/**
 * What the form must have before it is sent, in the form's order ('name' first): a quick answer in place; the
 * server checks again and its 422 names the field in its own words.
 */
export function channelProblems(kind: ChannelKind, name: string, f: ChannelForm, creating: boolean): string[] {
  const out: string[] = [];
  if (!name.trim()) out.push('name');
  for (const spec of CHANNEL_FIELDS[kind]) {
    const v = (f[spec.key] ?? '').trim();
    if (spec.secret && !creating && !v) continue;
    if (!v) {
      if (!spec.optional && !spec.default) out.push(spec.key);
      continue;
    }
    if (spec.range) {
      const [min, max] = spec.range;
      if (!/^\d{1,4}$/.test(v) || +v < min || +v > max) out.push(spec.key);
    } else if (spec.url) {
      const u = baseUrl(v);
      if (!/^https?:\/\/[^\s?#]+$/.test(u) || u.length > 300) out.push(spec.key);
    } else if (spec.pattern && !spec.pattern.test(v)) out.push(spec.key);
  }
  return out;
}

/** The form field a server 422 names ("settings.sign_name is invalid: …"), to mark it; null when none does. */
export function channelFieldOfError(kind: ChannelKind, message: string): string | null {
  const k = message.match(/^settings\.([a-z_]+)/)?.[1];
  return k && CHANNEL_FIELDS[kind].some((f) => f.key === k) ? k : null;
}

/** The settings to POST or PATCH: every non-secret setting (empty ones at their default), credentials when typed. */
export function channelSettings(kind: ChannelKind, f: ChannelForm): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of CHANNEL_FIELDS[kind]) {
    const v = (f[spec.key] ?? '').trim() || (spec.secret ? '' : (spec.default ?? ''));
    if (!v) continue;
    out[spec.key] = spec.range ? Number(v) : spec.url ? baseUrl(v) : v;
  }
  return out;
}

/** Aliyun's two push URLs (HTTP batch push): incoming texts and delivery reports, each with the inbox's token. */
export function aliyunPushUrls(origin: string, path: string, token: string): { texts: string; reports: string } {
  const base = `${origin.replace(/\/+$/, '')}${path}`;
  const q = `?token=${encodeURIComponent(token)}`;
  return { texts: `${base}${q}`, reports: `${base}/report${q}` };
}
