// An API inbox (a custom integration): its one setting, the URL agents' replies are POSTed to, and the examples the
// admin hands to whoever writes the integration: how to post a customer's message in with the secret, what a reply
// looks like, and how to check its signature (the same scheme outbound webhooks use). Pure, so it is unit-tested.

export type ApiField = 'name' | 'reply_url';

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** A stored inbox's reply URL, empty when replies stay in Kefu. */
export const readReplyUrl = (settings: Record<string, unknown> | null | undefined) => str(settings?.reply_url);

/** What the server also checks: an http(s) URL with a host, no spaces, at most 2000 characters. */
export function isTargetUrl(v: string): boolean {
  const url = v.trim();
  const m = url.match(/^https?:\/\/([^/?#]*)/);
  return !!m && m[1].length > 0 && url.length <= 2000 && !/\s/.test(url);
}

export function problems(name: string, replyUrl: string): ApiField[] {
  const out: ApiField[] = [];
  if (!name.trim()) out.push('name');
  if (replyUrl.trim() && !isTargetUrl(replyUrl)) out.push('reply_url');
  return out;
}

/** The form field a server 422 names ("settings.reply_url is invalid: …"); null when none does. */
export const fieldOfError = (message: string): ApiField | null => (/^settings\.reply_url\b/.test(message) ? 'reply_url' : null);

/** The settings to POST or PATCH: an empty reply URL is left out, so replies stay in Kefu. */
export function apiSettings(replyUrl: string): Record<string, unknown> {
  return replyUrl.trim() ? { reply_url: replyUrl.trim() } : {};
}

/** An example body, with every field the endpoint takes (contact name, email and phone are optional). */
export const SAMPLE_BODY = {
  contact: { id: 'crm-1001', name: 'Zhao Lei', email: 'zhao@example.com', phone: '+8613800138000' },
  message: { id: 'msg-1', content: 'Where is my invoice?' },
};

/** The request an integration makes, as plain HTTP, with the secret left as a placeholder. */
export function sendExample(url: string): string {
  return [`POST ${url}`, 'Authorization: Bearer <secret>', 'Content-Type: application/json', '', JSON.stringify(SAMPLE_BODY)].join('\n');
}

/** The same request as a curl command, to try from a terminal (with the secret filled in). */
export function curlExample(url: string, secret: string): string {
  return [
    `curl -X POST '${url}' \\`,
    `  -H 'Authorization: Bearer ${secret}' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${JSON.stringify(SAMPLE_BODY)}'`,
  ].join('\n');
}

/** What arrives at the reply URL for an agent's reply. */
export function replyExample(replyUrl: string): string {
  const body = {
    event: 'message.created',
    inbox_id: '…',
    conversation_id: '…',
    contact: { id: 'crm-1001', kefu_id: '…', name: 'Zhao Lei' },
    message: { id: '…', content: 'Sent to your email just now.', sender: { kind: 'agent', name: '…' }, created_at: '…' },
  };
  return [
    `POST ${replyUrl || '<reply URL>'}`,
    'Content-Type: application/json',
    'X-Kefu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>',
    '',
    JSON.stringify(body, null, 2),
  ].join('\n');
}

/** How a receiver checks a signed request (API replies and webhooks alike), in Node.js. */
export const SIGNATURE_SAMPLE = `// Node.js: rawBody is the request body exactly as received
const crypto = require('node:crypto');
const [, t, v1] = req.headers['x-kefu-signature'].match(/^t=(\\d+),v1=([0-9a-f]{64})$/) ?? [];
const expected = crypto.createHmac('sha256', secret).update(\`\${t}.\${rawBody}\`).digest('hex');
const fresh = Math.abs(Date.now() / 1000 - Number(t)) <= 300;
if (!v1 || !fresh || !crypto.timingSafeEqual(Buffer.from(v1), Buffer.from(expected))) {
  return res.writeHead(401).end();
}`;
