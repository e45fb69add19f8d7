// A stand-in for Twilio's SMS platform, inside the test suite (never inside the product): the Messages API Kefu
// calls — HTTP Basic with the account SID and auth token (20003), Twilio's error JSON for invalid numbers (21211,
// 21614), a rate limit (20429) — and the calls Twilio makes to an inbox's webhook: incoming texts and status
// callbacks, signed with X-Twilio-Signature as Twilio signs them.
//
// Magic numbers, as Twilio's test credentials have: +15005550001 is invalid (21211), +15005550009 cannot receive
// SMS (21614), texts to +15005550010 end `undelivered` with error 30003, and for +15005550011 the status
// callbacks come before the API's answer (Twilio gives no order between them).
import { createServer } from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';

/** Twilio's request signature: base64 HMAC-SHA1 of the URL and the sorted fields. */
export function twilioSignature(authToken, url, params) {
  const keys = Object.keys(params).sort();
  const data = url + keys.map((k) => k + params[k]).join('');
  return createHmac('sha1', authToken).update(data).digest('base64');
}

export async function startTwilio({ accountSid = `AC${randomBytes(16).toString('hex')}`, authToken = randomBytes(16).toString('hex'), from = '+15005550006' } = {}) {
  const sent = [];
  const waiters = [];
  const callbacks = [];
  const media = new Map(); // ME sid -> { contentType, data }
  let rateLimitOnce = 0;
  const json = (res, status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  const error = (res, status, code, message) => json(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

  async function callback(url, params) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(authToken, url, params) },
      body: new URLSearchParams(params),
    });
    callbacks.push({ url, params, status: res.status });
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://standin');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    // An MMS's media: behind the account's credentials, redirecting to where the file is kept, as Twilio does.
    const mediaPath = url.pathname.match(/^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/MM[0-9a-f]+\/Media\/(ME[0-9a-f]+)$/);
    if (req.method === 'GET' && mediaPath) {
      const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      if (mediaPath[1] !== accountSid || auth !== `${accountSid}:${authToken}`) return error(res, 401, 20003, 'Authenticate');
      if (!media.has(mediaPath[2])) return error(res, 404, 20404, 'The requested resource was not found');
      res.writeHead(307, { location: `/cdn/${mediaPath[2]}` });
      return res.end();
    }
    const cdn = url.pathname.match(/^\/cdn\/(ME[0-9a-f]+)$/);
    if (req.method === 'GET' && cdn && media.has(cdn[1])) {
      const f = media.get(cdn[1]);
      res.writeHead(200, { 'content-type': f.contentType });
      return res.end(f.data);
    }
    const m = url.pathname.match(/^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/);
    if (req.method !== 'POST' || !m) return error(res, 404, 20404, 'The requested resource was not found');
    const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    if (m[1] !== accountSid || auth !== `${accountSid}:${authToken}`) return error(res, 401, 20003, 'Authenticate');
    if (rateLimitOnce > 0) { rateLimitOnce -= 1; return error(res, 429, 20429, 'Too Many Requests'); }
    if (!form.Body && !form.MediaUrl) return error(res, 400, 21619, 'A text message body or media urls must be specified.');
    // Twilio fetches the media from the URL it was given (publicly reachable, no login).
    let fetched = null;
    if (form.MediaUrl) {
      const got = await fetch(form.MediaUrl).catch(() => null);
      if (!got || got.status !== 200) return error(res, 400, 11200, `HTTP retrieval failure: ${got?.status ?? 'unreachable'}`);
      fetched = { contentType: got.headers.get('content-type'), data: Buffer.from(await got.arrayBuffer()) };
      if (fetched.data.length > 5 * 1024 * 1024) return error(res, 400, 12300, 'Invalid Content-Type or size');
    }
    if (!form.From && !form.MessagingServiceSid) return error(res, 400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.");
    if (!/^\+[1-9]\d{6,14}$/.test(form.To ?? '') || form.To === '+15005550001') return error(res, 400, 21211, `The 'To' number ${form.To} is not a valid phone number.`);
    if (form.To === '+15005550009') return error(res, 400, 21614, `'To' number is not a valid mobile number`);
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const message = { sid, account_sid: accountSid, to: form.To, from: form.From ?? null, messaging_service_sid: form.MessagingServiceSid ?? null, body: form.Body ?? '', num_media: fetched ? '1' : '0', media: fetched, media_url: form.MediaUrl ?? null, status: 'queued', direction: 'outbound-api', num_segments: '1', date_created: new Date().toUTCString(), status_callback: form.StatusCallback ?? null };
    sent.push(message);
    for (const w of [...waiters]) if (w.pred(message)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(message); }
    const report = async () => {
      const base = { MessageSid: sid, SmsSid: sid, AccountSid: accountSid, From: form.From ?? '', To: form.To, ApiVersion: '2010-04-01' };
      await callback(form.StatusCallback, { ...base, MessageStatus: 'sent', SmsStatus: 'sent' });
      if (form.To === '+15005550010') await callback(form.StatusCallback, { ...base, MessageStatus: 'undelivered', SmsStatus: 'undelivered', ErrorCode: '30003' });
      else await callback(form.StatusCallback, { ...base, MessageStatus: 'delivered', SmsStatus: 'delivered' });
    };
    if (form.StatusCallback && form.To === '+15005550011') await report();
    json(res, 201, message);
    // Otherwise after the answer: sent, then delivered (or undelivered).
    if (form.StatusCallback && form.To !== '+15005550011') setImmediate(report);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`, accountSid, authToken, from, sent, callbacks,
    rateLimitNext(n = 1) { rateLimitOnce = n; },
    /** A file an MMS carries: its MediaUrl, as Twilio gives it in the webhook. */
    addMedia(data, contentType) {
      const sid = `ME${randomBytes(16).toString('hex')}`;
      media.set(sid, { contentType, data });
      return `${this.url}/2010-04-01/Accounts/${accountSid}/Messages/MM${randomBytes(16).toString('hex')}/Media/${sid}`;
    },
    nextSent(pred, ms = 20000) {
      const found = sent.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); reject(new Error(`nothing matching was sent: ${JSON.stringify(sent)}`)); } }, ms);
      });
    },
    /** An incoming text, posted to the inbox's webhook as Twilio posts it. `signedUrl` is the URL Twilio was given. */
    async text(hookUrl, { from: sender, body, sid = `SM${randomBytes(16).toString('hex')}`, extra = {} }, { signedUrl = hookUrl, headers = {}, signature } = {}) {
      const params = { ToCountry: 'US', SmsMessageSid: sid, NumMedia: '0', SmsSid: sid, SmsStatus: 'received', Body: body, To: from, NumSegments: '1', MessageSid: sid, AccountSid: accountSid, From: sender, ApiVersion: '2010-04-01', ...extra };
      const res = await fetch(hookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature ?? twilioSignature(authToken, signedUrl, params), ...headers },
        body: new URLSearchParams(params),
      });
      return { status: res.status, text: await res.text(), sid, params };
    },
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
