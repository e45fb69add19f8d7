// Outbound webhooks: admins subscribe a URL to events (a new contact among them); committed facts reach it as JSON signed with HMAC-SHA256
// over timestamp and body (X-Kefu-Signature), with the event and a delivery id in headers; failures are retried
// with backoff and the log says what happened; a failed delivery can be sent again; only admins manage them;
// private targets are refused unless the installation allows them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { startServer, setupTeam, startConversation, request, uid, api } from './harness.mjs';

async function startReceiver() {
  const got = [];
  const answers = [];
  const waiters = [];
  const srv = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString();
    const status = answers.shift() ?? 200;
    const entry = { headers: req.headers, body, json: JSON.parse(body), status };
    got.push(entry);
    res.writeHead(status);
    res.end(status === 200 ? 'ok' : 'not now');
    for (const w of [...waiters]) if (w.pred(entry)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry); }
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}/hooks/kefu`, got, answers,
    next(pred, ms = 20000) {
      const found = got.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); reject(new Error(`nothing matching arrived: ${JSON.stringify(got.map((g) => g.json.event))}`)); } }, ms);
      });
    },
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

const verify = (secret, entry) => {
  const [, t, v1] = entry.headers['x-kefu-signature'].match(/^t=(\d+),v1=([0-9a-f]{64})$/);
  return v1 === createHmac('sha256', secret).update(`${t}.${entry.body}`).digest('hex') && Math.abs(Date.now() / 1000 - Number(t)) < 300;
};

test('subscribed events reach the URL signed; the log says they were delivered', async () => {
  const { admin } = await setupTeam(server);
  const made = await api(server, 'POST', '/api/v1/webhooks', { token: admin, body: { url: receiver.url, events: ['conversation.created', 'message.created', 'conversation.closed', 'contact.created'] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const hook = made.body.webhook;
  assert.equal(hook.secret.length > 20, true);
  const { agent, visitor, cid } = await startConversation(server, { content: 'webhook hello' });
  const created = await receiver.next((e) => e.json.event === 'conversation.created' && e.json.data.conversation.id === cid);
  assert.ok(verify(hook.secret, created), 'signed with the webhook\'s secret');
  assert.equal(created.headers['x-kefu-event'], 'conversation.created');
  assert.equal(created.headers['x-kefu-delivery'], created.json.id);
  // The visitor became a contact when the widget connected.
  const contact = await receiver.next((e) => e.json.event === 'contact.created' && e.json.data.contact.id === created.json.data.conversation.contact_id);
  assert.ok(verify(hook.secret, contact));
  assert.match(contact.json.data.contact.name, /^Visitor /);
  const message = await receiver.next((e) => e.json.event === 'message.created' && e.json.data.message.content === 'webhook hello');
  assert.equal(message.json.data.conversation.id, cid);
  assert.ok(verify(hook.secret, message));
  const closed = await request(agent, 'conversation:close', { conversation_id: cid });
  assert.equal(closed.ok, true, JSON.stringify(closed));
  await receiver.next((e) => e.json.event === 'conversation.closed' && e.json.data.conversation.id === cid);
  assert.equal(receiver.got.some((e) => e.json.event === 'conversation.updated'), false, 'only what was subscribed');

  const log = (await api(server, 'GET', `/api/v1/webhooks/${hook.id}/deliveries`, { token: admin })).body.deliveries;
  const entry = log.find((d) => d.id === message.json.id);
  assert.deepEqual([entry.event, entry.status, entry.response_status, entry.attempts], ['message.created', 'delivered', 200, 1]);
  // Webhooks are the organisation's: this one goes, so the next test's are its own.
  assert.equal((await api(server, 'DELETE', `/api/v1/webhooks/${hook.id}`, { token: admin })).status, 204);
  agent.close();
  visitor.close();
});

test('a receiver that fails is tried again; a refused delivery is failed in the log and can be sent again', async () => {
  const { admin } = await setupTeam(server);
  const hook = (await api(server, 'POST', '/api/v1/webhooks', { token: admin, body: { url: receiver.url, events: ['message.created'] } })).body.webhook;
  receiver.answers.push(503);
  const { agent, visitor } = await startConversation(server, { content: 'retry me' });
  const delivered = await receiver.next((e) => e.json.data?.message?.content === 'retry me' && e.status === 200, 30000);
  assert.equal(receiver.got.filter((e) => e.json.id === delivered.json.id).length, 2, 'the 503, then the retry');
  let log = (await api(server, 'GET', `/api/v1/webhooks/${hook.id}/deliveries`, { token: admin })).body.deliveries;
  assert.deepEqual([log[0].status, log[0].attempts], ['delivered', 2]);

  receiver.answers.push(410);
  const sent = await request(visitor, 'message:send', { client_id: uid('c'), content: 'refused one' });
  assert.equal(sent.ok, true);
  const refused = await receiver.next((e) => e.json.data?.message?.content === 'refused one');
  assert.equal(refused.status, 410);
  let failed;
  for (let i = 0; i < 100 && !failed; i++) {
    log = (await api(server, 'GET', `/api/v1/webhooks/${hook.id}/deliveries`, { token: admin })).body.deliveries;
    failed = log.find((d) => d.id === refused.json.id && d.status === 'failed');
    if (!failed) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(failed, 'a 410 is final');
  assert.equal(failed.response_status, 410);
  assert.match(failed.last_error, /410/);
  const again = await api(server, 'POST', `/api/v1/webhooks/${hook.id}/deliveries/${failed.id}/retry`, { token: admin });
  assert.equal(again.status, 200);
  assert.equal(again.body.delivery.status, 'pending');
  await receiver.next((e) => e.json.id === refused.json.id && e.status === 200);
  assert.equal((await api(server, 'DELETE', `/api/v1/webhooks/${hook.id}`, { token: admin })).status, 204);
  agent.close();
  visitor.close();
});

test('only admins manage webhooks; bad input and private targets get clear errors', async () => {
  const { admin, agents } = await setupTeam(server);
  assert.equal((await api(server, 'GET', '/api/v1/webhooks', { token: agents[0].token })).status, 403);
  const bad = await api(server, 'POST', '/api/v1/webhooks', { token: admin, body: { url: receiver.url, events: ['message.deleted'] } });
  assert.equal(bad.status, 422);
  assert.match(bad.body.error.message, /message\.deleted/);
  assert.equal((await api(server, 'POST', '/api/v1/webhooks', { token: admin, body: { url: 'ftp://x', events: ['message.created'] } })).status, 422);
  const hook = (await api(server, 'POST', '/api/v1/webhooks', { token: admin, body: { url: receiver.url, events: ['ticket.created'] } })).body.webhook;
  const rotated = await api(server, 'POST', `/api/v1/webhooks/${hook.id}/rotate_secret`, { token: admin });
  assert.notEqual(rotated.body.webhook.secret, hook.secret);
  const off = await api(server, 'PATCH', `/api/v1/webhooks/${hook.id}`, { token: admin, body: { active: false, events: ['ticket.updated'] } });
  assert.deepEqual([off.body.webhook.active, off.body.webhook.events], [false, ['ticket.updated']]);
  assert.equal((await api(server, 'DELETE', `/api/v1/webhooks/${hook.id}`, { token: admin })).status, 204);
  assert.equal((await api(server, 'DELETE', `/api/v1/webhooks/${hook.id}`, { token: admin })).status, 404);

  const strict = await startServer();
  try {
    const { admin: strictAdmin } = await setupTeam(strict);
    const refused = await api(strict, 'POST', '/api/v1/webhooks', { token: strictAdmin, body: { url: 'http://127.0.0.1:9/x', events: ['message.created'] } });
    assert.equal(refused.status, 422);
    assert.match(refused.body.error.message, /KEFU_WEBHOOKS_ALLOW_PRIVATE/);
  } finally {
    await strict.stop();
  }
});
