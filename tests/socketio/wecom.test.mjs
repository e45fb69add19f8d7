// WeCom customer-service inboxes against a stand-in of WeCom (wecom_standin.mjs): the encrypted URL check, a
// callback leading Kefu to pull every page of messages from its stored cursor (each kept once, restart-safe),
// replies through send_msg, WeCom's refusal when the window is used, and forged callbacks refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupTeam, onlineAgent, request, uid, api, sendFile, downloadFile } from './harness.mjs';
import { PNG } from './multipart.mjs';
import { startWecom } from './wecom_standin.mjs';

const AES_KEY = 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR';
const TOKEN = 'wecomToken1';

let server;
let wecom;
before(async () => {
  wecom = await startWecom();
  server = await startServer();
});
after(async () => {
  await server?.stop();
  await wecom?.stop();
});

test('a WeCom inbox: the URL check, messages pulled page by page after a callback, replies through send_msg', async () => {
  const setup = await setupTeam(server);
  const made = await api(server, 'POST', '/api/v1/inboxes', {
    token: setup.admin,
    body: { kind: 'wecom', name: uid('wecom'), teams: [setup.team.id], settings: {
      corp_id: wecom.corpId, open_kfid: wecom.openKfid, secret: wecom.secret, token: TOKEN, encoding_aes_key: AES_KEY, api_base_url: wecom.url, window_messages: 2,
    } },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const inbox = made.body.inbox;
  assert.equal(JSON.stringify(inbox).includes(AES_KEY) || JSON.stringify(inbox).includes(wecom.secret), false);
  const hook = `${server.url}${inbox.webhook_path}`;
  const keys = { token: TOKEN, aesKey: AES_KEY };
  const check = await wecom.verify(hook, keys);
  assert.deepEqual([check.status, check.text], [200, check.plain], 'the decrypted echostr comes back');
  assert.equal((await wecom.verify(hook, { token: 'other', aesKey: AES_KEY })).status, 401);

  const agent = await onlineAgent(server, setup.agents[0]);
  const user = `wm${uid('u').replace(/[^a-zA-Z0-9]/g, '')}`;
  // Three messages, pulled in pages of two; an agent's own message from the WeCom app is not the customer's.
  const called = await wecom.customerWrites(hook, keys, [
    { from: user, content: '第一条' }, { from: user, content: 'an agent in WeCom', origin: 5 }, { from: user, content: '第三条' },
  ]);
  assert.deepEqual(called, { status: 200, text: 'success' });
  await agent.next('message:new', (d) => d.message.content === '第一条');
  const third = await agent.next('message:new', (d) => d.message.content === '第三条');
  const cid = third.message.conversation_id;
  const syncs = wecom.stats.syncCalls;
  assert.ok(syncs >= 2, 'has_more: a second page');

  // The next callback goes on from the stored cursor: nothing is pulled twice.
  await wecom.customerWrites(hook, keys, [{ from: user, content: '第四条' }]);
  await agent.next('message:new', (d) => d.message.content === '第四条');
  const messages = (await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: setup.admin })).body.messages;
  assert.deepEqual(messages.map((m) => m.content), ['第一条', '第三条', '第四条']);

  const sent = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: '您好，请稍等' });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  const out = await wecom.nextSent((m) => m.touser === user);
  assert.deepEqual([out.open_kfid, out.msgtype, out.text.content], [wecom.openKfid, 'text', '您好，请稍等']);
  await agent.next('message:updated', (d) => d.message.id === sent.message.id && d.message.delivery.status === 'sent');
  const window = (await api(server, 'GET', `/api/v1/conversations/${cid}/reply_window`, { token: setup.agents[0].token })).body.reply_window;
  assert.deepEqual([window.open, window.remaining], [true, 1]);
  await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: 'second' });
  const refused = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: 'third' });
  assert.equal(refused.error.code, 'reply_window_closed', 'Kefu\'s window, set to 2 replies');

  const forged = await wecom.customerWrites(hook, keys, [{ from: user, content: 'forged' }], { badSignature: true });
  assert.equal(forged.status, 401);
  assert.equal((await fetch(hook, { method: 'POST', body: 'not xml' })).status, 400);
  agent.close();
});

test('WeCom media and profiles: the customer is named by their WeChat nickname; a picture and a file are fetched with media/get and kept; an agent\'s file goes up with media/upload and out as a file', async () => {
  const setup = await setupTeam(server);
  const made = await api(server, 'POST', '/api/v1/inboxes', {
    token: setup.admin,
    body: { kind: 'wecom', name: uid('wecom'), teams: [setup.team.id], settings: {
      corp_id: wecom.corpId, open_kfid: wecom.openKfid, secret: wecom.secret, token: TOKEN, encoding_aes_key: AES_KEY, api_base_url: wecom.url,
    } },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const hook = `${server.url}${made.body.inbox.webhook_path}`;
  const keys = { token: TOKEN, aesKey: AES_KEY };
  const agent = await onlineAgent(server, setup.agents[0]);
  const user = `wm${uid('u').replace(/[^a-zA-Z0-9]/g, '')}`;
  // The customer's WeChat nickname names them from their first message (kf/customer/batchget).
  wecom.setCustomer(user, { nickname: '李雷', gender: 1, unionid: 'oUnion123', avatar: 'http://wx.qlogo.cn/x/0' });
  const pdf = Buffer.from('%PDF-1.4\n% a customer\'s invoice\n');
  await wecom.customerWrites(hook, keys, [
    { from: user, file: { type: 'image', contentType: 'image/png', filename: 'shot.png', data: PNG } },
    { from: user, file: { type: 'file', contentType: 'application/pdf', filename: '发票.pdf', data: pdf } },
  ]);
  const image = await agent.next('message:new', (d) => d.message.content === '[image]');
  const file = await agent.next('message:new', (d) => d.message.content === '[file]');
  const cid = image.message.conversation_id;
  const conversation = (await api(server, 'GET', `/api/v1/conversations/${cid}`, { token: setup.admin })).body.conversation;
  assert.equal(conversation.contact_name, '李雷');
  const contact = (await api(server, 'GET', `/api/v1/contacts/${conversation.contact_id}`, { token: setup.admin })).body.contact;
  assert.deepEqual(contact.attributes.profile, { unionid: 'oUnion123', gender: 1, avatar: 'http://wx.qlogo.cn/x/0' });
  const kept = async (m) => (await agent.next('message:updated', (d) => d.message.id === m.message.id && d.message.attachments?.length === 1)).message.attachments[0];
  const keptImage = await kept(image);
  const keptFile = await kept(file);
  assert.equal(keptImage.content_type, 'image/png');
  assert.deepEqual([keptFile.filename, keptFile.content_type], ['发票.pdf', 'application/pdf']);
  assert.ok((await downloadFile(server, setup.admin, keptImage.id)).data.equals(PNG));
  assert.ok((await downloadFile(server, setup.admin, keptFile.id)).data.equals(pdf));

  // Any file up to 20 MB goes out as a file; a picture as an image.
  const reply = await sendFile(server, setup.agents[0].token, cid, { filename: '退货单.pdf', type: 'application/pdf', data: pdf });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  const out = await wecom.nextSent((m) => m.touser === user && m.msgtype === 'file');
  const uploaded = wecom.media(out.file.media_id);
  assert.deepEqual([uploaded.type, uploaded.filename], ['file', '退货单.pdf']);
  assert.ok(uploaded.data.equals(pdf));
  await agent.next('message:updated', (d) => d.message.id === reply.body.message.id && d.message.delivery.status === 'sent');
  const picture = await sendFile(server, setup.agents[0].token, cid, { filename: 'map.png', type: 'image/png', data: PNG });
  assert.equal(picture.status, 201);
  const outImage = await wecom.nextSent((m) => m.touser === user && m.msgtype === 'image');
  assert.ok(wecom.media(outImage.image.media_id).data.equals(PNG));
  // WeCom refuses files of 5 bytes or less: so does Kefu, before storing anything.
  const tiny = await sendFile(server, setup.agents[0].token, cid, { filename: 't.txt', type: 'text/plain', data: Buffer.from('tiny') });
  assert.equal(tiny.status, 422);
  assert.equal(tiny.body.error.code, 'attachment_not_supported');
  agent.close();
});

test('WeCom sessions: closing the conversation in Kefu ends the customer\'s WeCom session; a session a servicer took in the WeCom app refuses Kefu\'s replies with the reason', async () => {
  const setup = await setupTeam(server);
  const made = await api(server, 'POST', '/api/v1/inboxes', {
    token: setup.admin,
    body: { kind: 'wecom', name: uid('wecom'), teams: [setup.team.id], settings: {
      corp_id: wecom.corpId, open_kfid: wecom.openKfid, secret: wecom.secret, token: TOKEN, encoding_aes_key: AES_KEY, api_base_url: wecom.url,
    } },
  });
  const hook = `${server.url}${made.body.inbox.webhook_path}`;
  const keys = { token: TOKEN, aesKey: AES_KEY };
  const agent = await onlineAgent(server, setup.agents[0]);
  const user = `wm${uid('u').replace(/[^a-zA-Z0-9]/g, '')}`;
  await wecom.customerWrites(hook, keys, [{ from: user, content: '会话一' }]);
  const first = await agent.next('message:new', (d) => d.message.content === '会话一');
  assert.equal(wecom.state(user), 0, 'a new session');
  const closed = await request(agent, 'conversation:close', { conversation_id: first.message.conversation_id });
  assert.equal(closed.ok, true, JSON.stringify(closed));
  await wecom.reachesState(user, 4);

  // The customer writes again: a new session, which a servicer then takes in the WeCom app.
  await wecom.customerWrites(hook, keys, [{ from: user, content: '会话二' }]);
  const second = await agent.next('message:new', (d) => d.message.content === '会话二');
  wecom.setState(user, 3);
  const reply = await request(agent, 'message:send', { conversation_id: second.message.conversation_id, client_id: uid('r'), content: '您好' });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  const failed = await agent.next('message:updated', (d) => d.message.id === reply.message.id && d.message.delivery.status === 'failed');
  assert.match(failed.message.delivery.error, /servicer in the WeCom app.*95018/);
  // Closing it now leaves the servicer's session alone: Kefu looks, and does not end it.
  const asked = wecom.nextStateQuery(user);
  await request(agent, 'conversation:close', { conversation_id: second.message.conversation_id });
  await asked;
  const ended = wecom.reachesState(user, 4, 1500).then(() => true, () => false);
  assert.equal(await ended, false, 'still with the servicer');
  assert.equal(wecom.state(user), 3);
  agent.close();
});
