// Weibo inboxes against a stand-in of Weibo's fans-service platform (weibo_standin.mjs): the URL check, signed JSON
// pushes becoming messages once (Weibo retries with the same sender and time), replies through the reply API,
// Weibo's refusals (the 48-hour window, an expired token) on the message, and unsigned or unreadable pushes refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupTeam, onlineAgent, request, uid, api, sendFile, downloadFile } from './harness.mjs';
import { PNG } from './multipart.mjs';
import { startWeibo } from './weibo_standin.mjs';

let server;
let weibo;
before(async () => {
  weibo = await startWeibo();
  server = await startServer();
});
after(async () => {
  await server?.stop();
  await weibo?.stop();
});

let n = 0;
const userId = () => 3000000000 + (++n) * 7 + (process.pid % 1000) * 100;

test('a Weibo inbox: the URL check, a private message live, the reply through the API, refusals on the message', async () => {
  const setup = await setupTeam(server);
  const made = await api(server, 'POST', '/api/v1/inboxes', { token: setup.admin, body: { kind: 'weibo', name: uid('weibo'), teams: [setup.team.id], settings: { app_secret: weibo.appSecret, access_token: weibo.accessToken, api_base_url: weibo.url } } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const inbox = made.body.inbox;
  assert.equal(JSON.stringify(inbox).includes(weibo.appSecret), false);
  const hook = `${server.url}${inbox.webhook_path}`;
  const check = await fetch(`${hook}?${weibo.signedQuery({ echostr: 'weibo-echo' })}`);
  assert.equal(await check.text(), 'weibo-echo');
  assert.equal((await fetch(`${hook}?${weibo.signedQuery({ echostr: 'x' }, 'wrong-secret')}`)).status, 401);

  const agent = await onlineAgent(server, setup.agents[0]);
  const user = userId();
  const createdAt = 'Mon Jul 16 18:09:20 +0800 2026';
  assert.equal((await weibo.push(hook, { sender_id: user, text: '微博私信：订单问题', created_at: createdAt })).status, 200);
  const arrived = await agent.next('message:new', (d) => d.message.content === '微博私信：订单问题');
  const cid = arrived.message.conversation_id;
  await weibo.push(hook, { sender_id: user, text: '微博私信：订单问题', created_at: createdAt });
  assert.equal((await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: setup.admin })).body.messages.length, 1, 'a retried push is stored once');
  assert.equal((await weibo.push(hook, { type: 'event', sender_id: user, data: { subtype: 'follow' } })).status, 200, 'events open nothing');

  const sent = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: '您好，请提供订单号' });
  const out = await weibo.nextSent((m) => m.receiver_id === String(user));
  assert.deepEqual([out.text, out.save_sender_box], ['您好，请提供订单号', '0']);
  await agent.next('message:updated', (d) => d.message.id === sent.message.id && d.message.delivery.status === 'sent');

  weibo.rateLimitNext(1);
  const limited = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: 'after the limit' });
  await agent.next('message:updated', (d) => d.message.id === limited.message.id && d.message.delivery.status === 'sent', 30000);

  weibo.userWrote(user, Date.now() - 49 * 3600_000);
  const late = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: 'too late' });
  const failed = await agent.next('message:updated', (d) => d.message.id === late.message.id && d.message.delivery.status === 'failed');
  assert.match(failed.message.delivery.error, /48 hours/);

  assert.equal((await weibo.push(hook, { sender_id: user, text: 'forged' }, { secret: 'nope' })).status, 401);
  const garbage = await fetch(`${hook}?${weibo.signedQuery()}`, { method: 'POST', body: 'not json' });
  assert.equal(garbage.status, 400);
  const noSender = await fetch(`${hook}?${weibo.signedQuery()}`, { method: 'POST', body: JSON.stringify({ type: 'text', text: 'x' }) });
  assert.equal(noSender.status, 400);
  // Weibo's window: any number of replies within 48 hours of the user's last message.
  const window = (await api(server, 'GET', `/api/v1/conversations/${cid}/reply_window`, { token: setup.agents[0].token })).body.reply_window;
  assert.equal(window.open, true);
  assert.equal(window.remaining, null, 'Weibo counts no replies');
  const history = (await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: setup.admin })).body.messages;
  const lastWrote = history.filter((m) => m.sender.kind === 'visitor').at(-1).created_at;
  assert.equal(Date.parse(window.closes_at) - Date.parse(lastWrote), 48 * 3600_000);
  // Weibo's reply API carries text only: a file is refused with the reason before anything is stored.
  const file = await sendFile(server, setup.agents[0].token, cid, { filename: 'a.png', type: 'image/png', data: Buffer.from('\x89PNG....') });
  assert.deepEqual([file.status, file.body.error.code], [422, 'attachment_not_supported']);
  assert.match(file.body.error.message, /Weibo/);
  const messages = (await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: setup.admin })).body.messages;
  assert.equal(messages.some((m) => m.content === 'forged'), false);
  agent.close();
});

test('a Weibo user\'s picture and voice note are fetched by their file id and kept; a file Weibo does not give is noted', async () => {
  const setup = await setupTeam(server);
  const made = await api(server, 'POST', '/api/v1/inboxes', { token: setup.admin, body: { kind: 'weibo', name: uid('weibo'), teams: [setup.team.id], settings: { app_secret: weibo.appSecret, access_token: weibo.accessToken, api_base_url: weibo.url, media_base_url: weibo.url } } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal(made.body.inbox.settings.media_base_url, weibo.url);
  const hook = `${server.url}${made.body.inbox.webhook_path}`;
  const agent = await onlineAgent(server, setup.agents[0]);
  const user = userId();
  const tovfid = weibo.addMedia(PNG, 'image/png');
  await weibo.push(hook, { type: 'image', sender_id: user, data: { vfid: tovfid - 10, tovfid } });
  const picture = await agent.next('message:new', (d) => d.message.content === '[image]');
  const kept = (await agent.next('message:updated', (d) => d.message.id === picture.message.id && d.message.attachments?.length === 1)).message.attachments[0];
  assert.deepEqual([kept.filename, kept.content_type], [`image-${tovfid}.png`, 'image/png']);
  assert.ok((await downloadFile(server, setup.admin, kept.id)).data.equals(PNG));

  const amr = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(32, 3)]);
  const voiceFid = weibo.addMedia(amr, 'audio/amr');
  await weibo.push(hook, { type: 'voice', sender_id: user, data: { tovfid: voiceFid } });
  const voice = await agent.next('message:new', (d) => d.message.content === '[voice message]');
  const audio = (await agent.next('message:updated', (d) => d.message.id === voice.message.id && d.message.attachments?.length === 1)).message.attachments[0];
  assert.ok((await downloadFile(server, setup.admin, audio.id)).data.equals(amr));

  await weibo.push(hook, { type: 'image', sender_id: user, data: { tovfid: 1 } });
  const missing = await agent.next('message:new', (d) => d.message.content === '[image]' && d.message.id !== picture.message.id);
  const noted = (await agent.next('message:updated', (d) => d.message.id === missing.message.id)).message;
  assert.match(noted.content, /could not be fetched: file not found \(21601\)/);
  agent.close();
});
