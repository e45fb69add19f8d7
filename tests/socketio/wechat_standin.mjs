// A stand-in for WeChat's Official Account platform, inside the test suite (never inside the product): the API Kefu
// calls (access tokens, the customer-service send) enforcing what WeChat documents — the AppSecret, token expiry
// (40001 unknown, 42001 expired), the 48-hour reply window (45015), the reply quota (45047), a rate limit (45009)
// — and the pushes WeChat makes to an account's webhook, signed with its token, plain or AES-encrypted.
//
//   const wx = await startWechat({ appId, appSecret });
//   settings: { app_id: wx.appId, app_secret: wx.appSecret, token, api_base_url: wx.url }
//   await wx.push(hookUrl, { token, aesKey }, { from: 'oUser', content: 'hi' });   // -> { status, text }
//   await wx.nextSent((m) => m.touser === 'oUser');                                  // what Kefu sent
import { createServer } from 'node:http';
import { createHash, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { parseMultipart } from './multipart.mjs';

// The temporary-media limits WeChat documents: type -> accepted content types and largest size.
const MEDIA_RULES = {
  image: { types: ['image/jpeg', 'image/png', 'image/gif'], max: 10 * 1024 * 1024, sizeCode: 40009 },
  voice: { types: ['audio/amr', 'audio/mpeg'], max: 2 * 1024 * 1024, sizeCode: 40010 },
};

export const sha1 = (parts) => createHash('sha1').update([...parts].sort().join('')).digest('hex');

/** WeChat's message crypto: AES-256-CBC, IV = key[0..16], random16 ‖ u32be len ‖ msg ‖ appid, padded to 32. */
export function encrypt(aesKey, appId, message, random = randomBytes(16)) {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const msg = Buffer.from(message);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  let plain = Buffer.concat([random, len, msg, Buffer.from(appId)]);
  const pad = 32 - (plain.length % 32);
  plain = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

export function decrypt(aesKey, appId, b64) {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(Buffer.from(b64, 'base64')), decipher.final()]);
  const content = plain.subarray(16, plain.length - plain[plain.length - 1]);
  const len = content.readUInt32BE(0);
  if (content.subarray(4 + len).toString() !== appId) throw new Error('wrong app id');
  return content.subarray(4, 4 + len).toString();
}

const cdata = (v) => `<![CDATA[${v}]]>`;

/** A message as WeChat posts it. */
export function messageXml({ to = 'gh_kefu', from, type = 'text', content, msgId, createTime = Math.floor(Date.now() / 1000), event, extra = '' }) {
  return `<xml><ToUserName>${cdata(to)}</ToUserName><FromUserName>${cdata(from)}</FromUserName>`
    + `<CreateTime>${createTime}</CreateTime><MsgType>${cdata(type)}</MsgType>`
    + (content !== undefined ? `<Content>${cdata(content)}</Content>` : '')
    + (event ? `<Event>${cdata(event)}</Event>` : '')
    + extra
    + (msgId ? `<MsgId>${msgId}</MsgId>` : '') + '</xml>';
}

export async function startWechat({ appId = 'wx5f0e7b1c2d3a4b5c', appSecret = 'standin-secret-1', tokenLifetimeSecs = 7200, windowHours = 48, quota = 5 } = {}) {
  const tokens = new Map(); // token -> expires at (ms)
  const lastWrote = new Map(); // openid -> ms
  const repliesSince = new Map(); // openid -> count
  const sent = [];
  const waiters = [];
  const stats = { tokenFetches: 0, sendCalls: 0, mediaGets: 0 };
  const media = new Map(); // media_id -> { type, contentType, filename, data }
  const followers = new Map(); // openid -> { remark, unionid }
  let mediaFailures = 0;
  let rateLimitOnce = 0;

  const json = (res, status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://standin');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    const body = bytes.toString();
    const tokenError = () => {
      const token = url.searchParams.get('access_token');
      if (!tokens.has(token)) return { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' };
      if (tokens.get(token) <= Date.now()) return { errcode: 42001, errmsg: 'access_token expired' };
      return null;
    };
    if (req.method === 'POST' && url.pathname === '/cgi-bin/media/upload') {
      const refused = tokenError();
      if (refused) return json(res, 200, refused);
      const rule = MEDIA_RULES[url.searchParams.get('type')];
      if (!rule) return json(res, 200, { errcode: 40004, errmsg: 'invalid media type' });
      const part = parseMultipart(req.headers['content-type'], bytes)?.find((p) => p.name === 'media');
      if (!part || !part.filename) return json(res, 200, { errcode: 41005, errmsg: 'media data missing' });
      if (!rule.types.includes(part.type)) return json(res, 200, { errcode: 40005, errmsg: 'invalid file type' });
      if (part.data.length === 0 || part.data.length > rule.max) return json(res, 200, { errcode: rule.sizeCode, errmsg: 'invalid media size' });
      const id = `MEDIA_${randomBytes(16).toString('hex')}`;
      media.set(id, { type: url.searchParams.get('type'), contentType: part.type, filename: part.filename, data: part.data });
      return json(res, 200, { type: url.searchParams.get('type'), media_id: id, created_at: Math.floor(Date.now() / 1000) });
    }
    if (req.method === 'GET' && url.pathname === '/cgi-bin/user/info') {
      const refused = tokenError();
      if (refused) return json(res, 200, refused);
      const openid = url.searchParams.get('openid');
      if (!openid) return json(res, 200, { errcode: 40003, errmsg: 'invalid openid' });
      // What WeChat still gives since it stopped giving nicknames and avatars (2021).
      const known = followers.get(openid) ?? {};
      return json(res, 200, { subscribe: 1, openid, language: 'zh_CN', subscribe_time: 1700000000, unionid: known.unionid, remark: known.remark ?? '', groupid: 0, tagid_list: [], subscribe_scene: 'ADD_SCENE_QR_CODE', qr_scene: 0, qr_scene_str: '' });
    }
    if (req.method === 'GET' && url.pathname === '/cgi-bin/media/get') {
      stats.mediaGets += 1;
      if (mediaFailures > 0) { mediaFailures -= 1; res.writeHead(502); return res.end('bad gateway'); }
      const refused = tokenError();
      if (refused) return json(res, 200, refused);
      const found = media.get(url.searchParams.get('media_id'));
      if (!found) return json(res, 200, { errcode: 40007, errmsg: 'invalid media_id' });
      res.writeHead(200, { 'content-type': found.contentType, 'content-disposition': `attachment; filename="${found.filename.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(found.filename)}`, 'content-length': found.data.length });
      return res.end(found.data);
    }
    if (req.method === 'GET' && url.pathname === '/cgi-bin/token') {
      stats.tokenFetches += 1;
      if (url.searchParams.get('grant_type') !== 'client_credential') return json(res, 200, { errcode: 40002, errmsg: 'invalid grant_type' });
      if (url.searchParams.get('appid') !== appId) return json(res, 200, { errcode: 40013, errmsg: 'invalid appid' });
      if (url.searchParams.get('secret') !== appSecret) return json(res, 200, { errcode: 40125, errmsg: 'invalid appsecret' });
      const token = `ACCESS_${randomBytes(12).toString('hex')}`;
      tokens.set(token, Date.now() + tokenLifetimeSecs * 1000);
      return json(res, 200, { access_token: token, expires_in: tokenLifetimeSecs });
    }
    if (req.method === 'POST' && url.pathname === '/cgi-bin/message/custom/send') {
      stats.sendCalls += 1;
      const token = url.searchParams.get('access_token');
      if (!tokens.has(token)) return json(res, 200, { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' });
      if (tokens.get(token) <= Date.now()) return json(res, 200, { errcode: 42001, errmsg: 'access_token expired' });
      let msg;
      try { msg = JSON.parse(body); } catch { return json(res, 200, { errcode: 47001, errmsg: 'data format error' }); }
      if (rateLimitOnce > 0) { rateLimitOnce -= 1; return json(res, 200, { errcode: 45009, errmsg: 'reach max api daily quota limit' }); }
      const textOk = msg.msgtype === 'text' && typeof msg.text?.content === 'string';
      const mediaOk = ['image', 'voice'].includes(msg.msgtype) && typeof msg[msg.msgtype]?.media_id === 'string';
      if (!textOk && !mediaOk) return json(res, 200, { errcode: 40008, errmsg: 'invalid message type' });
      if (mediaOk && media.get(msg[msg.msgtype].media_id)?.type !== msg.msgtype) return json(res, 200, { errcode: 40007, errmsg: 'invalid media_id' });
      const wrote = lastWrote.get(msg.touser);
      if (wrote === undefined || Date.now() - wrote > windowHours * 3600_000) return json(res, 200, { errcode: 45015, errmsg: 'response out of time limit or subscription is canceled' });
      if ((repliesSince.get(msg.touser) ?? 0) >= quota) return json(res, 200, { errcode: 45047, errmsg: 'out of response count limit' });
      repliesSince.set(msg.touser, (repliesSince.get(msg.touser) ?? 0) + 1);
      sent.push(msg);
      for (const w of [...waiters]) if (w.pred(msg)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(msg); }
      return json(res, 200, { errcode: 0, errmsg: 'ok' });
    }
    json(res, 404, { errcode: 40066, errmsg: 'invalid url' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    url, appId, appSecret, stats, sent,
    /** A file WeChat keeps (as when a user sends a picture): its media_id. */
    addMedia(data, contentType, filename, type = contentType.startsWith('image/') ? 'image' : 'voice') {
      const id = `MEDIA_${randomBytes(16).toString('hex')}`;
      media.set(id, { type, contentType, filename, data });
      return id;
    },
    /** What the account knows of a follower: the remark it gave them, their UnionID. */
    setFollower(openid, profile) { followers.set(openid, profile); },
    /** What WeChat keeps under a media_id (an agent's upload). */
    media: (id) => media.get(id),
    /** The next n media downloads fail with a 502. */
    failMediaNext(n = 1) { mediaFailures = n; },
    /** The user wrote to the account at `at` (ms): their reply window opens. */
    userWrote(openid, at = Date.now()) { lastWrote.set(openid, at); repliesSince.set(openid, 0); },
    /** Every issued token expires now (as when another system fetched a newer one). */
    expireTokens() { for (const t of tokens.keys()) tokens.set(t, 0); },
    forgetTokens() { tokens.clear(); },
    rateLimitNext(n = 1) { rateLimitOnce = n; },
    nextSent(pred, ms = 20000) {
      const found = sent.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); reject(new Error(`nothing matching was sent; sent: ${JSON.stringify(sent)}`)); } }, ms);
      });
    },
    /**
     * Posts a message to an account's webhook the way WeChat does: signed with the token, encrypted when an
     * aesKey is given. The user's reply window opens as WeChat's would.
     */
    /** Posts a raw body with a valid plain-mode signature (for bodies WeChat would never send). */
    async pushRaw(hookUrl, token, body) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = String(Math.floor(Math.random() * 1e9));
      const q = new URLSearchParams({ timestamp, nonce, signature: sha1([token, timestamp, nonce]) });
      const res = await fetch(`${hookUrl}?${q}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
      return { status: res.status, text: await res.text() };
    },
    async push(hookUrl, { token, aesKey, appId: forApp = appId }, message, { badSignature = false } = {}) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = String(Math.floor(Math.random() * 1e9));
      const xml = messageXml(message);
      let body = xml;
      const q = new URLSearchParams({ timestamp, nonce, openid: message.from });
      // A wrong signature: what someone without the token would send.
      const signer = badSignature ? `${token}x` : token;
      q.set('signature', sha1([signer, timestamp, nonce]));
      if (aesKey) {
        const enc = encrypt(aesKey, forApp, xml);
        body = `<xml><ToUserName>${cdata(message.to ?? 'gh_kefu')}</ToUserName><Encrypt>${cdata(enc)}</Encrypt></xml>`;
        q.set('encrypt_type', 'aes');
        q.set('msg_signature', sha1([signer, timestamp, nonce, enc]));
      }
      const res = await fetch(`${hookUrl}?${q}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
      if (res.status === 200 && message.type !== 'event') this.userWrote(message.from);
      return { status: res.status, text: await res.text() };
    },
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
