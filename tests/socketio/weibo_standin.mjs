// A stand-in for Weibo's fans-service platform (粉丝服务平台), inside the test suite (never inside the product):
// the reply API Kefu calls (`/2/messages/reply.json`: the access token, form fields, `data` as JSON, the 48-hour
// window after the user last wrote, a rate limit 10023, an expired token 21327) and the JSON pushes Weibo makes,
// signed with sha1(sort([app_secret, timestamp, nonce])), and the files users send (`/2/mss/msget` by file id).
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';

const sha1 = (parts) => createHash('sha1').update([...parts].sort().join('')).digest('hex');

export async function startWeibo({ appSecret = randomBytes(8).toString('hex'), accessToken = `2.00${randomBytes(12).toString('hex')}` } = {}) {
  const sent = [];
  const waiters = [];
  const lastWrote = new Map();
  let rateLimitOnce = 0;
  const media = new Map(); // fid -> { contentType, data }
  let nextFid = 821804400;
  const json = (res, status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://standin');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    // The files users send, on Weibo's upload host: by the account's file id and its access token.
    if (req.method === 'GET' && url.pathname === '/2/mss/msget') {
      if (url.searchParams.get('access_token') !== accessToken) return json(res, 400, { error: 'expired_token', error_code: 21327, request: url.pathname });
      const found = media.get(url.searchParams.get('fid'));
      if (!found) return json(res, 400, { error: 'file not found', error_code: 21601, request: url.pathname });
      res.writeHead(200, { 'content-type': found.contentType });
      return res.end(found.data);
    }
    if (req.method !== 'POST' || url.pathname !== '/2/messages/reply.json') return json(res, 404, { error: 'Request Api not found!', error_code: 10014 });
    if (form.access_token !== accessToken) return json(res, 400, { error: 'expired_token', error_code: 21327, request: url.pathname });
    if (rateLimitOnce > 0) { rateLimitOnce -= 1; return json(res, 403, { error: 'User requests out of rate limit!', error_code: 10023, request: url.pathname }); }
    if (form.type !== 'text' || !/^\d+$/.test(form.receiver_id ?? '')) return json(res, 400, { error: 'miss required parameter', error_code: 10016 });
    let data;
    try { data = JSON.parse(form.data); } catch { return json(res, 400, { error: 'data is not json', error_code: 10017 }); }
    const wrote = lastWrote.get(form.receiver_id);
    if (wrote === undefined || Date.now() - wrote > 48 * 3600_000) return json(res, 400, { error: 'the user has not interacted in 48 hours', error_code: 20101 });
    const entry = { receiver_id: form.receiver_id, text: data.text, save_sender_box: form.save_sender_box };
    sent.push(entry);
    for (const w of [...waiters]) if (w.pred(entry)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry); }
    json(res, 200, { result: true, sender_id: '1902538057', receiver_id: form.receiver_id, type: 'text', data: form.data });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`, appSecret, accessToken, sent,
    userWrote(id, at = Date.now()) { lastWrote.set(String(id), at); },
    /** A file a user sent: the account's file id for it (`tovfid`). */
    addMedia(data, contentType) { const fid = String(++nextFid); media.set(fid, { contentType, data }); return Number(fid); },
    rateLimitNext(n = 1) { rateLimitOnce = n; },
    nextSent(pred, ms = 20000) {
      const found = sent.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); reject(new Error(`nothing matching was sent: ${JSON.stringify(sent)}`)); } }, ms);
      });
    },
    signedQuery(extra = {}, secret = appSecret) {
      const timestamp = String(Date.now());
      const nonce = String(Math.floor(Math.random() * 1e8));
      return new URLSearchParams({ signature: sha1([secret, timestamp, nonce]), timestamp, nonce, ...extra });
    },
    /** A push as Weibo makes it; a text opens the user's window as it would. */
    async push(hookUrl, message, { secret } = {}) {
      const body = { type: 'text', receiver_id: 1902538057, sender_id: 2489518277, created_at: new Date().toUTCString(), text: '', data: {}, ...message };
      const res = await fetch(`${hookUrl}?${this.signedQuery({}, secret)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status === 200 && ['text', 'image', 'voice'].includes(body.type)) lastWrote.set(String(body.sender_id), Date.now());
      return { status: res.status, text: await res.text() };
    },
    stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
