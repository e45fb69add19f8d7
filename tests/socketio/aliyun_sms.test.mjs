// Aliyun SMS inboxes against a stand-in of Aliyun (aliyun_standin.mjs): SmsUp pushes with the inbox's token
// become messages (stored once per sequence id), replies go out through SendSms signed as Aliyun checks it, in the
// inbox's approved template, and SmsReport pushes move them to delivered or failed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupTeam, onlineAgent, request, uid, api, sendFile } from './harness.mjs';
import { startAliyun } from './aliyun_standin.mjs';

let server;
let aliyun;
before(async () => {
  aliyun = await startAliyun();
  server = await startServer();
});
after(async () => {
  await server?.stop();
  await aliyun?.stop();
});

async function aliyunInbox() {
  const setup = await setupTeam(server);
  const made = await api(server, 'POST', '/api/v1/inboxes', {
    token: setup.admin,
    body: { kind: 'aliyun_sms', name: uid('aliyun'), teams: [setup.team.id], settings: {
      access_key_id: aliyun.accessKeyId, access_key_secret: aliyun.accessKeySecret, sign_name: '客服中心', template_code: 'SMS_465000001', api_base_url: aliyun.url,
    } },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const inbox = made.body.inbox;
  assert.equal(JSON.stringify(inbox).includes(aliyun.accessKeySecret), false, 'the secret is never returned');
  const base = `${server.url}${inbox.webhook_path}`;
  aliyun.reportTo(`${base}/report?token=${inbox.identity_secret}`);
  return { ...setup, inbox, texts: `${base}?token=${inbox.identity_secret}`, base };
}

test('texts pushed by Aliyun reach the agent; the reply goes out in the template and is reported delivered', async () => {
  const { admin, agents, texts } = await aliyunInbox();
  const agent = await onlineAgent(server, agents[0]);
  const pushed = await aliyun.push(texts, [{ phone: '13800138000', content: '快递什么时候到？', sequenceId: 9001 }]);
  assert.deepEqual(pushed, { status: 200, text: '{"code":0,"msg":"接收成功"}' });
  const arrived = await agent.next('message:new', (d) => d.message.content === '快递什么时候到？');
  const cid = arrived.message.conversation_id;
  // Pushed again (Aliyun got no answer in time): stored once.
  await aliyun.push(texts, [{ phone: '13800138000', content: '快递什么时候到？', sequenceId: 9001 }]);
  assert.equal((await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: admin })).body.messages.length, 1);
  const conversation = (await api(server, 'GET', `/api/v1/conversations/${cid}`, { token: admin })).body.conversation;
  const contact = (await api(server, 'GET', `/api/v1/contacts/${conversation.contact_id}`, { token: admin })).body.contact;
  assert.deepEqual([contact.phone, contact.external_id], ['+8613800138000', '+8613800138000']);

  const sent = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: '明天上午送达' });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  const out = await aliyun.nextSent((m) => m.PhoneNumbers === '13800138000');
  assert.deepEqual([out.SignName, out.TemplateCode, out.templateParam], ['客服中心', 'SMS_465000001', { content: '明天上午送达' }]);
  await agent.next('message:updated', (d) => d.message.id === sent.message.id && d.message.delivery.status === 'delivered');
  // SMS carries text only: a file is refused with the reason, and nothing is stored.
  const file = await sendFile(server, agents[0].token, cid, { filename: 'map.png', type: 'image/png', data: Buffer.from('\x89PNG....') });
  assert.deepEqual([file.status, file.body.error.code, file.body.error.message], [422, 'attachment_not_supported', 'Aliyun SMS carries text only']);
  assert.equal((await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: admin })).body.messages.length, 2);

  // A phone that is off: the report fails the reply with Aliyun's words.
  await aliyun.push(texts, [{ phone: '13900000000', content: '在吗' }]);
  const offCid = (await agent.next('message:new', (d) => d.message.content === '在吗')).message.conversation_id;
  const lost = await request(agent, 'message:send', { conversation_id: offCid, client_id: uid('r'), content: '在的' });
  const failed = await agent.next('message:updated', (d) => d.message.id === lost.message.id && d.message.delivery.status === 'failed');
  assert.match(failed.message.delivery.error, /用户关机/);

  // Aliyun's flow control is waited out.
  aliyun.throttleNext(1);
  const later = await request(agent, 'message:send', { conversation_id: cid, client_id: uid('r'), content: '稍等' });
  await agent.next('message:updated', (d) => d.message.id === later.message.id && ['sent', 'delivered'].includes(d.message.delivery.status), 30000);
  agent.close();
});

test('a push without the inbox\'s token, or not an Aliyun batch, is refused and stores nothing', async () => {
  const { admin, inbox, texts, base } = await aliyunInbox();
  assert.equal((await aliyun.push(base, [{ phone: '13800138001', content: 'no token' }])).status, 401);
  assert.equal((await aliyun.push(`${base}?token=wrong`, [{ phone: '13800138001', content: 'bad token' }])).status, 401);
  const notArray = await fetch(texts, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"phone_number":"1"}' });
  assert.equal(notArray.status, 400);
  // One bad text in a batch: none of it is stored.
  assert.equal((await aliyun.push(texts, [{ phone: '13800138002', content: 'good' }, { phone: 'nope', content: 'bad' }])).status, 400);
  assert.equal((await api(server, 'GET', `/api/v1/conversations?inbox_id=${inbox.id}`, { token: admin })).body.conversations.length, 0);
});
