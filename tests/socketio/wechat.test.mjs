// WeChat Official Account inboxes against a stand-in of WeChat's platform (wechat_standin.mjs): the URL check,
// messages in plain and AES safe mode reaching the agent live and stored once however often WeChat retries,
// replies through the customer-service API with the token cached and fetched again when it expires, WeChat's
// refusals (closed window, used quota) shown on the message, Kefu's own window refusing replies the account may
// not send, and bad calls refused with nothing stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupTeam, onlineAgent, request, uid, api, sendFile, downloadFile } from './harness.mjs';
import { PNG } from './multipart.mjs';
import { startWechat } from './wechat_standin.mjs';

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE';

let server;
let wx;
before(async () => {
  wx = await startWechat();
  server = await startServer();
});
after(async () => {
  await server?.stop();
  await wx?.stop();
});

async function wechatInbox(extra = {}) {
  const setup = await setupTeam(server);
  const token = `tok${uid('t').replace(/[^a-z0-9]/gi, '').slice(-12)}`;
  const created = await api(server, 'POST', '/api/v1/inboxes', {
    token: setup.admin,
    body: { kind: 'wechat', name: uid('wx'), teams: [setup.team.id], settings: { app_id: wx.appId, app_secret: wx.appSecret, token, api_base_url: wx.url, ...extra } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const inbox = created.body.inbox;
  return { ...setup, inbox, token, hook: `${server.url}${inbox.webhook_path}`, keys: { token, aesKey: extra.encoding_aes_key } };
}

const openid = () => `o${uid('user').replace(/[^a-zA-Z0-9]/g, '')}`;
let msgSeq = 1_000_000;
const msgId = () => String(++msgSeq + Date.now() * 1000);

test('a WeChat inbox: the URL check, a message live in the workspace, the reply through the customer-service API', async () => {
  const fetchesAtStart = wx.stats.tokenFetches;
  const { admin, agents, inbox, hook, keys, token } = await wechatInbox();
  assert.equal(inbox.kind, 'wechat');
  assert.equal(inbox.webhook_path, `/hooks/wechat/${inbox.id}`);
  const shown = JSON.stringify(inbox);
  assert.ok(!shown.includes(wx.appSecret) && !shown.includes(token), 'credentials are never returned');
  assert.equal(inbox.settings.safe_mode, false);
  assert.equal(inbox.channel_state.status, 'waiting');

  // WeChat's URL check: the echostr back when signed with the token, 401 otherwise.
  const { sha1 } = await import('./wechat_standin.mjs');
  const q = (t) => new URLSearchParams({ signature: sha1([t, '1410685589', 'n1']), timestamp: '1410685589', nonce: 'n1', echostr: 'echo-123' });
  const good = await fetch(`${hook}?${q(token)}`);
  assert.equal(good.status, 200);
  assert.equal(await good.text(), 'echo-123');
  const bad = await fetch(`${hook}?${q('wrong')}`);
  assert.equal(bad.status, 401);
  assert.equal((await bad.json()).error.code, 'bad_signature');
  assert.equal((await api(server, 'GET', `/api/v1/inboxes/${inbox.id}`, { token: admin })).body.inbox.channel_state.status, 'ok');

  const agent = await onlineAgent(server, agents[0]);
  const user = openid();
  const id = msgId();
  const pushed = await wx.push(hook, keys, { from: user, content: '你好，我的订单还没到', msgId: id });
  assert.deepEqual(pushed, { status: 200, text: 'success' });
  const arrived = await agent.next('message:new', (d) => d.message.content === '你好，我的订单还没到');
  const cid = arrived.message.conversation_id;
  const conversation = (await api(server, 'GET', `/api/v1/conversations/${cid}`, { token: admin })).body.conversation;
  assert.equal(conversation.inbox_id, inbox.id);
  assert.equal(conversation.assignee.id, agents[0].id, 'routed to the inbox\'s team');
  const contact = (await api(server, 'GET', `/api/v1/contacts/${conversation.contact_id}`, { token: admin })).body.contact;
  assert.equal(contact.external_id, user);
  assert.match(contact.name, /^WeChat user /);

  // WeChat retries a call it got no answer to: the same MsgId is stored once.
  assert.equal((await wx.push(hook, keys, { from: user, content: '你好，我的订单还没到', msgId: id })).status, 200);
  // A second message from the same user continues the conversation.
  await wx.push(hook, keys, { from: user, content: '单号 A-1001', msgId: msgId() });
  await agent.next('message:new', (d) => d.message.content === '单号 A-1001');
  const messages = (await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: admin })).body.messages;
  assert.deepEqual(messages.map((m) => m.content), ['你好，我的订单还没到', '单号 A-1001']);

  // Events open nothing.
  assert.equal((await wx.push(hook, keys, { from: openid(), type: 'event', event: 'subscribe' })).text, 'success');

  const window = (await api(server, 'GET', `/api/v1/conversations/${cid}/reply_window`, { token: agents[0].token })).body.reply_window;
  assert.equal(window.open, true);
  assert.equal(window.remaining, 5);
  const sent = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: '您好，正在为您查询。' });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  assert.equal(sent.message.delivery.status, 'pending');
  const out = await wx.nextSent((m) => m.touser === user);
  assert.deepEqual(out, { touser: user, msgtype: 'text', text: { content: '您好，正在为您查询。' } });
  await agent.next('message:updated', (d) => d.message.id === sent.message.id && d.message.delivery.status === 'sent');
  const second = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: '已经发货了。' });
  await agent.next('message:updated', (d) => d.message.id === second.message.id && d.message.delivery.status === 'sent');
  assert.equal(wx.stats.tokenFetches, fetchesAtStart + 1, 'one token for the follower\'s profile and both sends');
  const after = (await api(server, 'GET', `/api/v1/conversations/${cid}/reply_window`, { token: agents[0].token })).body.reply_window;
  assert.equal(after.remaining, 3);
  agent.close();
});

test('safe mode: an encrypted message is opened; a wrong signature or another app\'s ciphertext is refused and nothing stored', async () => {
  const { admin, agents, inbox, hook, keys } = await wechatInbox({ encoding_aes_key: AES_KEY });
  assert.equal(inbox.settings.safe_mode, true);
  assert.equal(JSON.stringify(inbox).includes(AES_KEY), false);
  const agent = await onlineAgent(server, agents[0]);
  const user = openid();
  assert.equal((await wx.push(hook, keys, { from: user, content: 'encrypted hello', msgId: msgId() })).status, 200);
  await agent.next('message:new', (d) => d.message.content === 'encrypted hello');

  const forged = await wx.push(hook, keys, { from: user, content: 'forged', msgId: msgId() }, { badSignature: true });
  assert.equal(forged.status, 401);
  const otherApp = await wx.push(hook, { ...keys, appId: 'wx0000000000000000' }, { from: user, content: 'not ours', msgId: msgId() });
  assert.equal(otherApp.status, 400);
  const plainInSafeMode = await wx.pushRaw(hook, keys.token, '<xml><FromUserName>x</FromUserName></xml>');
  assert.equal(plainInSafeMode.status, 400, 'a plain call to a safe-mode inbox has no Encrypt');
  const list = (await api(server, 'GET', `/api/v1/conversations?inbox_id=${inbox.id}`, { token: admin })).body.conversations;
  assert.equal(list.length, 1);
  const messages = (await api(server, 'GET', `/api/v1/conversations/${list[0].id}/messages`, { token: admin })).body.messages;
  assert.deepEqual(messages.map((m) => m.content), ['encrypted hello'], 'nothing refused was stored');
  agent.close();
});

test('an expired token is fetched again and the send tried once more; WeChat\'s refusals show on the message', async () => {
  const { agents, hook, keys } = await wechatInbox();
  const agent = await onlineAgent(server, agents[0]);
  const user = openid();
  await wx.push(hook, keys, { from: user, content: 'token test', msgId: msgId() });
  const cid = (await agent.next('message:new', (d) => d.message.content === 'token test')).message.conversation_id;
  const reply = async (content) => {
    const r = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content });
    assert.equal(r.ok, true, JSON.stringify(r));
    return (await agent.next('message:updated', (d) => d.message.id === r.message.id && d.message.delivery.status !== 'pending', 30000)).message;
  };
  assert.equal((await reply('first')).delivery.status, 'sent');
  wx.expireTokens();
  const fetches = wx.stats.tokenFetches;
  assert.equal((await reply('after expiry')).delivery.status, 'sent', '42001: a new token, then sent');
  assert.equal(wx.stats.tokenFetches, fetches + 1);

  // A rate limit is tried again later.
  wx.rateLimitNext(1);
  const limited = await reply('rate limited');
  assert.equal(limited.delivery.status, 'sent');

  // WeChat says the window closed (the user wrote 49 hours ago as far as WeChat knows): failed, with the reason.
  wx.userWrote(user, Date.now() - 49 * 3600_000);
  const late = await reply('too late');
  assert.equal(late.delivery.status, 'failed');
  assert.match(late.delivery.error, /48 hours/);
  assert.match(late.delivery.error, /45015/);
  agent.close();
});

test('Kefu\'s own window: replies past the quota are refused before they are queued, until the customer writes again', async () => {
  const { agents, hook, keys } = await wechatInbox({ window_messages: 2 });
  const agent = await onlineAgent(server, agents[0]);
  const user = openid();
  await wx.push(hook, keys, { from: user, content: 'quota test', msgId: msgId() });
  const cid = (await agent.next('message:new', (d) => d.message.content === 'quota test')).message.conversation_id;
  for (const content of ['one', 'two']) {
    assert.equal((await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content })).ok, true);
  }
  const refused = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: 'three' });
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, 'reply_window_closed');
  assert.match(refused.error.message, /write again/);
  const window = (await api(server, 'GET', `/api/v1/conversations/${cid}/reply_window`, { token: agents[0].token })).body.reply_window;
  assert.deepEqual([window.open, window.reason, window.remaining], [false, 'quota', 0]);
  // A private note is never sent, so the window does not apply.
  assert.equal((await request(agent, 'message:send', { conversation_id: cid, client_id: uid('n'), content: 'note', private: true })).ok, true);
  await wx.push(hook, keys, { from: user, content: 'again', msgId: msgId() });
  await agent.next('message:new', (d) => d.message.content === 'again');
  assert.equal((await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: 'three' })).ok, true);
  agent.close();
});

test('bad calls are refused with a clear status and nothing is stored', async () => {
  const { admin, inbox, hook, keys } = await wechatInbox();
  for (const body of ['', 'not xml', '<xml><ToUserName>gh</ToUserName></xml>', '<xml><FromUserName>o</FromUserName><ToUserName>g</ToUserName><MsgType>text</MsgType><Content></Content></xml>']) {
    const r = await wx.pushRaw(hook, keys.token, body);
    assert.equal(r.status, 400, `${body}: ${r.text}`);
  }
  const big = await wx.pushRaw(hook, keys.token, `<xml>${'x'.repeat(70 * 1024)}</xml>`);
  assert.equal(big.status, 413);
  const unsigned = await fetch(hook, { method: 'POST', body: '<xml/>' });
  assert.equal(unsigned.status, 400, 'no signature at all');
  assert.equal((await fetch(`${server.url}/hooks/wechat/00000000-0000-7000-8000-000000000000`)).status, 404);
  assert.equal((await fetch(`${server.url}/hooks/wechat/not-a-uuid`)).status, 400);
  const list = (await api(server, 'GET', `/api/v1/conversations?inbox_id=${inbox.id}`, { token: admin })).body.conversations;
  assert.equal(list.length, 0);
});

test('media: a customer\'s picture and voice note are fetched from WeChat and kept; an agent\'s image goes up and out; what WeChat cannot carry is refused', async () => {
  const { admin, agents, hook, keys } = await wechatInbox();
  const agent = await onlineAgent(server, agents[0]);
  const user = openid();
  const media = (id) => `<MediaId><![CDATA[${id}]]></MediaId>`;

  // A picture: stored at once as "[image]", the file following from media/get.
  const picture = wx.addMedia(PNG, 'image/png', 'photo.png');
  const pushed = await wx.push(hook, keys, { from: user, type: 'image', msgId: msgId(), extra: `<PicUrl><![CDATA[http://mmbiz.example/x]]></PicUrl>${media(picture)}` });
  assert.deepEqual(pushed, { status: 200, text: 'success' });
  const arrived = await agent.next('message:new', (d) => d.message.content === '[image]');
  const cid = arrived.message.conversation_id;
  const withFile = (await agent.next('message:updated', (d) => d.message.id === arrived.message.id && d.message.attachments?.length === 1)).message;
  assert.equal(withFile.attachments[0].content_type, 'image/png');
  assert.equal(withFile.attachments[0].size, PNG.length);
  const got = await downloadFile(server, admin, withFile.attachments[0].id);
  assert.equal(got.status, 200);
  assert.ok(got.data.equals(PNG), 'the bytes WeChat kept');

  // A voice note with WeChat's recognition: the words to read, the audio kept; a failed download is tried again.
  const amr = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(64, 7)]);
  const voice = wx.addMedia(amr, 'audio/amr', 'voice.amr', 'voice');
  wx.failMediaNext(1);
  await wx.push(hook, keys, { from: user, type: 'voice', msgId: msgId(), extra: `${media(voice)}<Format><![CDATA[amr]]></Format><Recognition><![CDATA[我要退货]]></Recognition>` });
  const spoken = await agent.next('message:new', (d) => d.message.content === '[voice] 我要退货');
  const heard = (await agent.next('message:updated', (d) => d.message.id === spoken.message.id && d.message.attachments?.length === 1, 20000)).message;
  assert.equal(heard.attachments[0].content_type, 'audio/amr');
  assert.ok((await downloadFile(server, admin, heard.attachments[0].id)).data.equals(amr));

  // A media id WeChat does not know: the agent reads why there is no file.
  await wx.push(hook, keys, { from: user, type: 'image', msgId: msgId(), extra: media('MEDIA_unknown') });
  const lost = await agent.next('message:new', (d) => d.message.content === '[image]' && d.message.id !== arrived.message.id);
  const noted = (await agent.next('message:updated', (d) => d.message.id === lost.message.id)).message;
  assert.match(noted.content, /could not be fetched: WeChat refused it: invalid media_id \(40007\)/);
  assert.deepEqual(noted.attachments ?? [], []);

  // The agent's image: uploaded as temporary media, sent as an image message.
  const clientId = uid('file');
  const sentFile = await sendFile(server, agents[0].token, cid, { filename: '收据.png', type: 'image/png', data: PNG, clientId });
  assert.equal(sentFile.status, 201, JSON.stringify(sentFile.body));
  assert.equal(sentFile.body.message.content, '收据.png');
  assert.equal(sentFile.body.message.attachments[0].filename, '收据.png');
  const out = await wx.nextSent((m) => m.touser === user && m.msgtype === 'image');
  const uploaded = wx.media(out.image.media_id);
  assert.equal(uploaded.type, 'image');
  assert.equal(uploaded.filename, '收据.png');
  assert.ok(uploaded.data.equals(PNG));
  const settled = (await agent.next('message:updated', (d) => d.message.id === sentFile.body.message.id && d.message.delivery.status !== 'pending')).message;
  assert.equal(settled.delivery.status, 'sent');
  // Sending the same file again (same client id, a retry after a lost answer) is the same message, sent once.
  const again = await sendFile(server, agents[0].token, cid, { filename: '收据.png', type: 'image/png', data: PNG, clientId });
  assert.equal(again.body.message.id, sentFile.body.message.id);
  const before = (await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: admin })).body.messages.length;

  // A PDF WeChat cannot carry, and an empty file: refused with the reason, nothing stored.
  const pdf = await sendFile(server, agents[0].token, cid, { filename: 'invoice.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4 x') });
  assert.equal(pdf.status, 422);
  assert.equal(pdf.body.error.code, 'attachment_not_supported');
  assert.match(pdf.body.error.message, /WeChat takes images/);
  const empty = await sendFile(server, agents[0].token, cid, { filename: 'a.png', type: 'image/png', data: Buffer.alloc(0) });
  assert.equal(empty.status, 422);
  const huge = await sendFile(server, agents[0].token, cid, { filename: 'big.png', type: 'image/png', data: Buffer.alloc(21 * 1024 * 1024, 1) });
  assert.equal(huge.status, 413);
  assert.equal(huge.body.error.code, 'payload_too_large');
  // As a private note, any file is kept and sent nowhere.
  const note = await sendFile(server, agents[0].token, cid, { filename: 'invoice.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4 x'), isPrivate: true });
  assert.equal(note.status, 201, JSON.stringify(note.body));
  assert.equal(note.body.message.private, true);
  assert.equal(note.body.message.delivery, undefined);
  const after = (await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: admin })).body.messages.length;
  assert.equal(after, before + 1, 'only the note was stored');
  assert.equal(wx.sent.filter((m) => m.touser === user && m.msgtype === 'image').length, 1);
  agent.close();
});

test('a new follower\'s profile is asked of WeChat after the answer: the account\'s remark names them, the UnionID is kept', async () => {
  const { admin, agents, hook, keys } = await wechatInbox();
  const agent = await onlineAgent(server, agents[0]);
  const user = openid();
  wx.setFollower(user, { remark: 'VIP 王女士', unionid: 'o6_bmasdasdsad6_2sgVt7hMZOPfL' });
  await wx.push(hook, keys, { from: user, content: '我是老客户', msgId: msgId() });
  const arrived = await agent.next('message:new', (d) => d.message.content === '我是老客户');
  const contactOf = async () => {
    const c = (await api(server, 'GET', `/api/v1/conversations/${arrived.message.conversation_id}`, { token: admin })).body.conversation;
    return (await api(server, 'GET', `/api/v1/contacts/${c.contact_id}`, { token: admin })).body.contact;
  };
  // The profile comes after WeChat has its answer: wait for it by polling the contact (bounded).
  let contact = await contactOf();
  for (let i = 0; i < 100 && !contact.attributes?.profile; i += 1) {
    await new Promise((r) => setTimeout(r, 50));
    contact = await contactOf();
  }
  assert.equal(contact.name, 'VIP 王女士');
  assert.deepEqual(contact.attributes.profile, { unionid: 'o6_bmasdasdsad6_2sgVt7hMZOPfL', language: 'zh_CN', subscribe_time: 1700000000, subscribe_scene: 'ADD_SCENE_QR_CODE' });
  agent.close();
});
