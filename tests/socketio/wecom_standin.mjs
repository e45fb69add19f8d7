// A stand-in for WeCom customer service (企业微信 · 微信客服), inside the test suite (never inside the product):
// gettoken (corp id and secret), kf/sync_msg (the callback's token, the cursor, pages of 2 with has_more), and
// kf/send_msg (the 48-hour window and 5 replies, 95001), plus the encrypted callbacks WeCom makes: the URL check
// with an encrypted echostr, and kf_msg_or_event announcing messages to pull.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { encrypt, sha1 } from './wechat_standin.mjs';
import { parseMultipart } from './multipart.mjs';

// WeCom's temporary-media limits: type -> accepted content types (any for files) and largest size.
const MEDIA_RULES = {
  image: { types: ['image/jpeg', 'image/png'], max: 10 * 1024 * 1024 },
  voice: { types: ['audio/amr'], max: 2 * 1024 * 1024 },
  video: { types: ['video/mp4'], max: 10 * 1024 * 1024 },
  file: { types: null, max: 20 * 1024 * 1024 },
};

export async function startWecom({ corpId = `ww${randomBytes(8).toString('hex')}`, secret = randomBytes(12).toString('hex'), openKfid = `wk${randomBytes(10).toString('hex')}` } = {}) {
  const tokens = new Set();
  const callbackTokens = new Set();
  const queue = []; // every message WeCom holds for the account, in order
  const lastWrote = new Map();
  const replies = new Map();
  const sent = [];
  const waiters = [];
  const stats = { syncCalls: 0, cursors: [] };
  const media = new Map(); // media_id -> { type, contentType, filename, data }
  // Each customer's session state: 0 new, 1 smart assistant (the API), 2 queued, 3 a servicer in the WeCom app,
  // 4 ended. A customer writing to an ended (or no) session starts a new one.
  const states = new Map();
  const stateWaiters = [];
  const setState = (user, state) => {
    states.set(user, state);
    for (const w of [...stateWaiters]) if (w.user === user && w.state === state) { stateWaiters.splice(stateWaiters.indexOf(w), 1); w.resolve(); }
  };
  const stateGetWaiters = [];
  const customers = new Map(); // external_userid -> { nickname, avatar, gender, unionid }
  const ALLOWED = { 0: [1, 2, 3, 4], 1: [2, 3, 4], 2: [3, 4], 3: [3, 4], 4: [] };
  const json = (res, body) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://standin');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    const raw = bytes.toString();
    if (url.pathname === '/cgi-bin/gettoken') {
      if (url.searchParams.get('corpid') !== corpId || url.searchParams.get('corpsecret') !== secret) return json(res, { errcode: 40001, errmsg: 'invalid credential' });
      const t = `WC_${randomBytes(10).toString('hex')}`;
      tokens.add(t);
      return json(res, { errcode: 0, errmsg: 'ok', access_token: t, expires_in: 7200 });
    }
    if (!tokens.has(url.searchParams.get('access_token'))) return json(res, { errcode: 40014, errmsg: 'invalid access_token' });
    if (url.pathname === '/cgi-bin/media/upload') {
      const type = url.searchParams.get('type');
      const rule = MEDIA_RULES[type];
      if (!rule) return json(res, { errcode: 40004, errmsg: 'invalid media type' });
      const part = parseMultipart(req.headers['content-type'], bytes)?.find((p) => p.name === 'media');
      if (!part || !part.filename) return json(res, { errcode: 41005, errmsg: 'media data missing' });
      if (rule.types && !rule.types.includes(part.type)) return json(res, { errcode: 40005, errmsg: 'invalid file type' });
      if (part.data.length <= 5 || part.data.length > rule.max) return json(res, { errcode: 40006, errmsg: 'invalid file size' });
      const id = `WM_${randomBytes(12).toString('hex')}`;
      media.set(id, { type, contentType: part.type, filename: part.filename, data: part.data });
      return json(res, { errcode: 0, errmsg: 'ok', type, media_id: id, created_at: String(Math.floor(Date.now() / 1000)) });
    }
    if (url.pathname === '/cgi-bin/media/get') {
      const found = media.get(url.searchParams.get('media_id'));
      if (!found) return json(res, { errcode: 40007, errmsg: 'invalid media_id' });
      res.writeHead(200, { 'content-type': found.contentType, 'content-disposition': `attachment; filename="${found.filename.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(found.filename)}` });
      return res.end(found.data);
    }
    const body = JSON.parse(raw || '{}');
    if (url.pathname === '/cgi-bin/kf/sync_msg') {
      stats.syncCalls += 1;
      stats.cursors.push(body.cursor ?? '');
      if (!callbackTokens.has(body.token)) return json(res, { errcode: 95007, errmsg: 'invalid msg token' });
      if (body.open_kfid !== openKfid) return json(res, { errcode: 95000, errmsg: 'invalid open_kfid' });
      const from = body.cursor ? Number(body.cursor) : 0;
      const page = queue.slice(from, from + 2);
      const next = from + page.length;
      return json(res, { errcode: 0, errmsg: 'ok', next_cursor: String(next), has_more: next < queue.length ? 1 : 0, msg_list: page });
    }
    if (url.pathname === '/cgi-bin/kf/customer/batchget') {
      const list = Array.isArray(body.external_userid_list) ? body.external_userid_list : [];
      if (list.length === 0 || list.length > 100) return json(res, { errcode: 40058, errmsg: 'invalid external_userid_list' });
      const known = list.filter((u) => customers.has(u));
      return json(res, { errcode: 0, errmsg: 'ok', customer_list: known.map((u) => ({ external_userid: u, ...customers.get(u) })), invalid_external_userid: list.filter((u) => !customers.has(u)) });
    }
    if (url.pathname === '/cgi-bin/kf/service_state/get') {
      if (body.open_kfid !== openKfid) return json(res, { errcode: 95000, errmsg: 'invalid open_kfid' });
      for (const w of [...stateGetWaiters]) if (w.user === body.external_userid) { stateGetWaiters.splice(stateGetWaiters.indexOf(w), 1); setImmediate(w.resolve); }
      return json(res, { errcode: 0, errmsg: 'ok', service_state: states.get(body.external_userid) ?? 4, servicer_userid: '' });
    }
    if (url.pathname === '/cgi-bin/kf/service_state/trans') {
      if (body.open_kfid !== openKfid) return json(res, { errcode: 95000, errmsg: 'invalid open_kfid' });
      const from = states.get(body.external_userid) ?? 4;
      if (!ALLOWED[from].includes(body.service_state)) return json(res, { errcode: 95016, errmsg: 'invalid service state transition' });
      if (body.service_state === 3 && !body.servicer_userid) return json(res, { errcode: 95017, errmsg: 'servicer_userid required' });
      setState(body.external_userid, body.service_state);
      return json(res, { errcode: 0, errmsg: 'ok', msg_code: '' });
    }
    if (url.pathname === '/cgi-bin/kf/send_msg') {
      const wrote = lastWrote.get(body.touser);
      if (body.open_kfid !== openKfid) return json(res, { errcode: 95000, errmsg: 'invalid open_kfid' });
      if (states.get(body.touser) === 3) return json(res, { errcode: 95018, errmsg: 'send msg not allowed in current service state' });
      if (wrote === undefined || Date.now() - wrote > 48 * 3600_000 || (replies.get(body.touser) ?? 0) >= 5) return json(res, { errcode: 95001, errmsg: 'send msg count limit' });
      if (body.msgtype !== 'text' && media.get(body[body.msgtype]?.media_id)?.type !== body.msgtype) return json(res, { errcode: 40007, errmsg: 'invalid media_id' });
      replies.set(body.touser, (replies.get(body.touser) ?? 0) + 1);
      const entry = { ...body, msgid: randomBytes(8).toString('hex') };
      sent.push(entry);
      for (const w of [...waiters]) if (w.pred(entry)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry); }
      return json(res, { errcode: 0, errmsg: 'ok', msgid: entry.msgid });
    }
    json(res, { errcode: 40066, errmsg: 'invalid url' });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const signedQuery = (token, encrypted) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(Math.floor(Math.random() * 1e9));
    return new URLSearchParams({ msg_signature: sha1([token, timestamp, nonce, encrypted]), timestamp, nonce });
  };
  return {
    url: `http://127.0.0.1:${server.address().port}`, corpId, secret, openKfid, sent, stats, queue,
    media: (id) => media.get(id),
    state: (user) => states.get(user),
    /** A customer's WeChat profile, as kf/customer/batchget gives it. */
    setCustomer(user, profile) { customers.set(user, profile); },
    /** A servicer takes the session in the WeCom app (or anything else moves it). */
    setState,
    /** Resolves when Kefu next asks for the customer's session state. */
    nextStateQuery(user, ms = 20000) {
      return new Promise((resolve, reject) => {
        const w = { user, resolve };
        stateGetWaiters.push(w);
        setTimeout(() => { const i = stateGetWaiters.indexOf(w); if (i >= 0) { stateGetWaiters.splice(i, 1); reject(new Error(`Kefu did not ask for the session of ${user}`)); } }, ms);
      });
    },
    /** Resolves once the customer's session is in `state`. */
    reachesState(user, state, ms = 20000) {
      if (states.get(user) === state) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const w = { user, state, resolve };
        stateWaiters.push(w);
        setTimeout(() => { const i = stateWaiters.indexOf(w); if (i >= 0) { stateWaiters.splice(i, 1); reject(new Error(`the session of ${user} is ${states.get(user)}, not ${state}`)); } }, ms);
      });
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
    /** WeCom's URL check: an encrypted echostr. */
    async verify(hookUrl, { token, aesKey }, plain = String(Date.now())) {
      const echostr = encrypt(aesKey, corpId, plain);
      const q = signedQuery(token, echostr);
      q.set('echostr', echostr);
      const res = await fetch(`${hookUrl}?${q}`);
      return { status: res.status, text: await res.text(), plain };
    },
    /** Customers write: their messages wait at WeCom, and a callback tells the account to pull them. */
    async customerWrites(hookUrl, { token, aesKey }, messages, { badSignature = false } = {}) {
      for (const m of messages) {
        const entry = { msgid: m.msgid ?? randomBytes(8).toString('hex'), open_kfid: openKfid, external_userid: m.from, send_time: Math.floor(Date.now() / 1000), origin: m.origin ?? 3 };
        if (m.file) {
          // A customer's picture, voice note, video or file: WeCom keeps it, the message names it by media_id.
          const id = `WM_${randomBytes(12).toString('hex')}`;
          media.set(id, { type: m.file.type, contentType: m.file.contentType, filename: m.file.filename, data: m.file.data });
          queue.push({ ...entry, msgtype: m.file.type, [m.file.type]: { media_id: id } });
        } else {
          queue.push({ ...entry, msgtype: 'text', text: { content: m.content } });
        }
        if ((m.origin ?? 3) === 3) {
          lastWrote.set(m.from, Date.now());
          replies.set(m.from, 0);
          if ((states.get(m.from) ?? 4) === 4) setState(m.from, 0);
        }
      }
      const cbToken = `CB_${randomBytes(6).toString('hex')}`;
      callbackTokens.add(cbToken);
      const event = `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[${cbToken}]]></Token><OpenKfId><![CDATA[${openKfid}]]></OpenKfId></xml>`;
      const encrypted = encrypt(aesKey, corpId, event);
      const q = signedQuery(badSignature ? `${token}x` : token, encrypted);
      const body = `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><AgentID><![CDATA[]]></AgentID><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
      const res = await fetch(`${hookUrl}?${q}`, { method: 'POST', body });
      return { status: res.status, text: await res.text() };
    },
    stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
