import { describe, expect, it } from 'vitest';
import { apiSettings, curlExample, fieldOfError, isTargetUrl, problems, readReplyUrl, replyExample, SAMPLE_BODY, sendExample, SIGNATURE_SAMPLE } from './apiSettings';

describe('API inbox settings', () => {
  it('reads and sends the reply URL, leaving it out when empty so replies stay in Kefu', () => {
    expect(readReplyUrl({ reply_url: 'https://crm.example.com/kefu' })).toBe('https://crm.example.com/kefu');
    expect(readReplyUrl({})).toBe('');
    expect(readReplyUrl(null)).toBe('');
    expect(apiSettings(' https://crm.example.com/kefu?x=1 ')).toEqual({ reply_url: 'https://crm.example.com/kefu?x=1' });
    expect(apiSettings('  ')).toEqual({});
  });

  it('checks what the server checks: an http(s) URL with a host and no spaces', () => {
    expect(problems('', '')).toEqual(['name']);
    expect(problems('CRM', '')).toEqual([]);
    expect(problems('CRM', 'ftp://x')).toEqual(['reply_url']);
    expect(problems('CRM', 'https://')).toEqual(['reply_url']);
    expect(problems('CRM', 'https://a b')).toEqual(['reply_url']);
    expect(isTargetUrl('http://127.0.0.1:9000/replies')).toBe(true);
    expect(isTargetUrl(`https://x/${'a'.repeat(2000)}`)).toBe(false);
    expect(fieldOfError('settings.reply_url is invalid: must be an http(s) URL')).toBe('reply_url');
    expect(fieldOfError('name is invalid: must not be empty')).toBe(null);
  });

  it('shows the request with a placeholder for the secret, and a curl command with it', () => {
    const url = 'https://kefu.example.com/hooks/api/0190';
    const req = sendExample(url);
    expect(req.split('\n').slice(0, 3)).toEqual([`POST ${url}`, 'Authorization: Bearer <secret>', 'Content-Type: application/json']);
    expect(JSON.parse(req.split('\n\n')[1])).toEqual(SAMPLE_BODY);
    expect(Object.keys(SAMPLE_BODY.contact)).toEqual(['id', 'name', 'email', 'phone']);
    const curl = curlExample(url, 's3cret');
    expect(curl).toContain("-H 'Authorization: Bearer s3cret'");
    expect(curl).toContain(`-d '${JSON.stringify(SAMPLE_BODY)}'`);
  });

  it('shows what a reply looks like, at the reply URL, with its signature header', () => {
    const ex = replyExample('https://crm.example.com/kefu');
    expect(ex.startsWith('POST https://crm.example.com/kefu\n')).toBe(true);
    expect(ex).toContain('X-Kefu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>');
    const body = JSON.parse(ex.split('\n\n')[1]);
    expect(Object.keys(body)).toEqual(['event', 'inbox_id', 'conversation_id', 'contact', 'message']);
    expect(body.event).toBe('message.created');
    expect(Object.keys(body.contact)).toEqual(['id', 'kefu_id', 'name']);
    expect(replyExample('')).toMatch(/^POST <reply URL>/);
  });

  it('gives a signature check that accepts what Kefu signs and refuses a change or an old timestamp', async () => {
    // Node's crypto, as the sample uses it (the workspace's types know no Node modules, hence the indirection).
    const name = 'node:crypto';
    const { createHmac, timingSafeEqual } = await import(/* @vite-ignore */ name);
    // Run the sample as written, against a request signed as Kefu signs (HMAC-SHA256 over "{t}.{body}").
    const check = (secret: string, header: string, rawBody: string) => {
      let status = 200;
      const res = { writeHead: (s: number) => ((status = s), { end: () => undefined }) };
      const req = { headers: { 'x-kefu-signature': header } };
      new Function('require', 'req', 'res', 'secret', 'rawBody', SIGNATURE_SAMPLE)((m: string) => (m === name ? { createHmac, timingSafeEqual } : null), req, res, secret, rawBody);
      return status;
    };
    const body = '{"event":"message.created"}';
    const t = Math.floor(Date.now() / 1000);
    const sign = (ts: number, b: string) => `t=${ts},v1=${createHmac('sha256', 'sec').update(`${ts}.${b}`).digest('hex')}`;
    expect(check('sec', sign(t, body), body)).toBe(200);
    expect(check('sec', sign(t, body), body + ' ')).toBe(401);
    expect(check('other', sign(t, body), body)).toBe(401);
    expect(check('sec', sign(t - 301, body), body)).toBe(401);
    expect(check('sec', 'garbage', body)).toBe(401);
  });
});
