// API inboxes, for custom integrations: messages posted in with the inbox's secret as bearer token (stored once per
// message id), agents' replies posted to the integration's URL as JSON signed with HMAC-SHA256 over timestamp and
// body, retried on 5xx, failed with the answer on 4xx; a reply URL on this machine refused unless the installation
// allows private targets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { startServer, setupTeam, onlineAgent, request, uid, api, sendFile, downloadFile } from './harness.mjs';
import { PNG } from './multipart.mjs';

/** The integration's server: records what Kefu posts; answers with the statuses queued in `answers`, then 200. */
async function startReceiver() {
  const got = [];
  const answers = [];
  const waiters = [];
  const srv = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString();
    const status = answers.shift() ?? 200;
    got.push({ headers: req.headers, body, status });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status === 200 ? '{"ok":true}' : '{"error":"nope"}');
    for (const w of [...waiters]) if (status === 200 && w.pred(JSON.parse(body))) { waiters.splice(waiters.indexOf(w), 1); w.resolve({ headers: req.headers, body }); }
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}/kefu-replies`, got, answers,
    next: (pred, ms = 20000) => new Promise((resolve, reject) => {
      const w = { pred, resolve };
      waiters.push(w);
      setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); reject(new Error(`nothing matching arrived: ${JSON.stringify(got)}`)); } }, ms);
    }),
    stop: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(r); }),
  };
}

let server;
let receiver;
before(async () => {
  receiver = await startReceiver();
  server = await startServer({ env: { KEFU_WEBHOOKS_ALLOW_PRIVATE: '1' } });
});
after(async () => {
  await server?.stop();
  await receiver?.stop();
});

async function apiInbox(srv, settings) {
  const setup = await setupTeam(srv);
  const made = await api(srv, 'POST', '/api/v1/inboxes', { token: setup.admin, body: { kind: 'api', name: uid('api'), teams: [setup.team.id], settings } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const inbox = made.body.inbox;
  const post = (body, token = inbox.identity_secret) => fetch(`${srv.url}${inbox.webhook_path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { ...setup, inbox, post };
}

test('an integration posts a customer\'s message in; the agent\'s reply reaches its URL, signed', async () => {
  const { admin, agents, inbox, post } = await apiInbox(server, { reply_url: receiver.url });
  assert.equal(inbox.webhook_path, `/hooks/api/${inbox.id}`);
  assert.ok(inbox.identity_secret, 'the admin sees the secret to give the integration');
  const agent = await onlineAgent(server, agents[0]);
  const customer = uid('crm');
  const body = { contact: { id: customer, name: 'Zhao Lei 赵磊', email: 'Zhao@Example.com' }, message: { id: 'm-1', content: 'Where is my invoice?' } };
  const created = await post(body);
  assert.equal(created.status, 201);
  const stored = (await created.json()).message;
  const arrived = await agent.next('message:new', (d) => d.message.content === 'Where is my invoice?');
  assert.equal(arrived.message.id, stored.id);
  // Posting the same message again (a retry) returns the stored one.
  const again = await post(body);
  assert.equal((await again.json()).message.id, stored.id);
  const conversation = (await api(server, 'GET', `/api/v1/conversations/${stored.conversation_id}`, { token: admin })).body.conversation;
  const contact = (await api(server, 'GET', `/api/v1/contacts/${conversation.contact_id}`, { token: admin })).body.contact;
  assert.deepEqual([contact.name, contact.email, contact.external_id], ['Zhao Lei 赵磊', 'zhao@example.com', customer]);

  const sent = await request(agent, 'message:send', { conversation_id: stored.conversation_id, client_id: uid('r'), content: 'Sent to your email just now.' });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  const delivery = await receiver.next((b) => b.message?.id === sent.message.id);
  const payload = JSON.parse(delivery.body);
  assert.equal(payload.event, 'message.created');
  assert.equal(payload.contact.id, customer);
  assert.equal(payload.message.content, 'Sent to your email just now.');
  const [, t, v1] = delivery.headers['x-kefu-signature'].match(/^t=(\d+),v1=([0-9a-f]{64})$/);
  assert.ok(Math.abs(Date.now() / 1000 - Number(t)) < 60, 'a fresh timestamp');
  assert.equal(v1, createHmac('sha256', inbox.identity_secret).update(`${t}.${delivery.body}`).digest('hex'));
  await agent.next('message:updated', (d) => d.message.id === sent.message.id && d.message.delivery.status === 'sent');

  // A 503 is tried again; a 400 fails with the integration's answer.
  receiver.answers.push(503);
  const retried = await request(agent, 'message:send', { conversation_id: stored.conversation_id, client_id: uid('r'), content: 'Second try' });
  await agent.next('message:updated', (d) => d.message.id === retried.message.id && d.message.delivery.status === 'sent', 30000);
  receiver.answers.push(400);
  const refused = await request(agent, 'message:send', { conversation_id: stored.conversation_id, client_id: uid('r'), content: 'Refused' });
  const failed = await agent.next('message:updated', (d) => d.message.id === refused.message.id && d.message.delivery.status === 'failed');
  assert.match(failed.message.delivery.error, /HTTP 400/);
  agent.close();
});

test('a wrong or missing secret is refused, bad input gets a clear error, and nothing is stored', async () => {
  const { admin, inbox, post } = await apiInbox(server, {});
  const body = { contact: { id: 'c1' }, message: { id: 'm1', content: 'hi' } };
  assert.equal((await post(body, 'wrong')).status, 401);
  assert.equal((await post(body, null)).status, 401);
  const invalid = await post('{"contact":');
  assert.equal(invalid.status, 400);
  assert.equal((await invalid.json()).error.code, 'invalid_json');
  const unknown = await post({ ...body, extra: 1 });
  assert.equal(unknown.status, 400);
  const noId = await post({ contact: { id: ' ' }, message: { id: 'm1', content: 'hi' } });
  assert.equal(noId.status, 422);
  assert.match((await noId.json()).error.message, /contact\.id/);
  const empty = await post({ contact: { id: 'c1' }, message: { id: 'm1', content: '' } });
  assert.equal(empty.status, 422);
  assert.equal((await api(server, 'GET', `/api/v1/conversations?inbox_id=${inbox.id}`, { token: admin })).body.conversations.length, 0);
  // Without a reply URL, replies stay in Kefu: nothing is queued for delivery.
  const ok = await post(body);
  const { conversation_id } = (await ok.json()).message;
  const sent = await api(server, 'POST', `/api/v1/conversations/${conversation_id}/messages`, { token: admin, body: { client_id: uid('r'), content: 'read me by REST' } });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  assert.equal(sent.body.message.delivery, undefined);
});

test('a reply URL on this machine is refused unless the installation allows private targets', async () => {
  const strict = await startServer();
  try {
    const { agents, post } = await apiInbox(strict, { reply_url: receiver.url });
    const agent = await onlineAgent(strict, agents[0]);
    const made = await post({ contact: { id: 'c9' }, message: { id: 'm9', content: 'hello strict' } });
    const { conversation_id } = (await made.json()).message;
    const sent = await request(agent, 'message:send', { conversation_id, client_id: uid('r'), content: 'will not go' });
    const failed = await agent.next('message:updated', (d) => d.message.id === sent.message.id && d.message.delivery.status === 'failed');
    assert.match(failed.message.delivery.error, /KEFU_WEBHOOKS_ALLOW_PRIVATE/);
    assert.equal(receiver.got.some((g) => g.body.includes('will not go')), false);
    agent.close();
  } finally {
    await strict.stop();
  }
});

test('files: an integration posts files in base64 and they are kept with the message; an agent\'s file goes out inside the signed delivery', async () => {
  const { admin, agents, post } = await apiInbox(server, { reply_url: receiver.url });
  const agent = await onlineAgent(server, agents[0]);
  const customer = uid('crm');
  const receipt = Buffer.from('order 1001, paid\n');
  const created = await post({ contact: { id: customer }, message: { id: 'f-1', attachments: [
    { filename: 'screen.png', content_type: 'image/png', data: PNG.toString('base64') },
    { filename: 'receipt.txt', content_type: 'text/plain', data: receipt.toString('base64') },
  ] } });
  assert.equal(created.status, 201);
  const stored = (await created.json()).message;
  assert.equal(stored.content, 'screen.png, receipt.txt', 'files alone are named by their names');
  assert.deepEqual(stored.attachments.map((a) => [a.filename, a.content_type, a.size]), [['screen.png', 'image/png', PNG.length], ['receipt.txt', 'text/plain', receipt.length]]);
  assert.ok((await downloadFile(server, admin, stored.attachments[0].id)).data.equals(PNG));
  assert.ok((await downloadFile(server, admin, stored.attachments[1].id)).data.equals(receipt));
  await agent.next('message:new', (d) => d.message.id === stored.id && d.message.attachments?.length === 2);

  // Bad files are refused with the field named, and nothing is stored.
  for (const attachments of [
    [{ filename: 'x.png', content_type: 'image/png', data: 'not base64!' }],
    [{ filename: 'x.png', content_type: 'image/png', data: '' }],
    [{ filename: '', content_type: 'image/png', data: PNG.toString('base64') }],
    Array.from({ length: 11 }, (_, i) => ({ filename: `${i}.png`, content_type: 'image/png', data: PNG.toString('base64') })),
  ]) {
    const r = await post({ contact: { id: customer }, message: { id: uid('bad'), attachments } });
    assert.equal(r.status, 422, JSON.stringify(attachments).slice(0, 80));
    assert.match((await r.json()).error.message, /message\.attachments/);
  }
  const messages = (await api(server, 'GET', `/api/v1/conversations/${stored.conversation_id}/messages`, { token: admin })).body.messages;
  assert.equal(messages.length, 1);

  const sent = await sendFile(server, agents[0].token, stored.conversation_id, { filename: 'refund.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4 refund') });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  const delivery = await receiver.next((b) => b.message?.id === sent.body.message.id);
  const payload = JSON.parse(delivery.body);
  assert.equal(payload.files.length, 1);
  assert.deepEqual([payload.files[0].filename, payload.files[0].content_type], ['refund.pdf', 'application/pdf']);
  assert.equal(Buffer.from(payload.files[0].data, 'base64').toString(), '%PDF-1.4 refund');
  const [, t, v1] = delivery.headers['x-kefu-signature'].match(/^t=(\d+),v1=([0-9a-f]{64})$/);
  assert.ok(v1 && t, 'signed like any delivery');
  agent.close();
});
