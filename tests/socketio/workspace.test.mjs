// What the agents' workspace and a signed-in visitor rely on: verified identity (Kefu.setUser), the identity
// secret kept for admins, the user's language, contact names on conversations, and a contact's history for the
// agent serving them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startServer, setupTeam, connectVisitor, connectAgent, onlineAgent, request, uid, api, startConversation } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const sign = (secret, id) => createHmac('sha256', secret).update(id).digest('hex');

async function secretOf(setup) {
  const inbox = (await api(server, 'GET', `/api/v1/inboxes/${setup.inbox.id}`, { token: setup.admin })).body.inbox;
  assert.match(inbox.identity_secret, /^[A-Za-z0-9_-]{43}$/, 'every new inbox has a secret');
  return inbox.identity_secret;
}

test('a signed-in visitor is the same contact on every device, with their history', async () => {
  const setup = await setupTeam(server);
  const secret = await secretOf(setup);
  const id = uid('customer-user');
  const identity = { id, name: 'Han Meimei', email: 'Han@Example.com', hash: sign(secret, id) };

  const { socket: laptop, session: first } = await connectVisitor(server, setup.widgetToken, { identity });
  assert.deepEqual(first.identity, { verified: true });
  const sent = await request(laptop, 'message:send', { client_id: uid('c'), content: 'from the laptop' });
  assert.equal(sent.ok, true);

  const { socket: phone, session: second } = await connectVisitor(server, setup.widgetToken, { identity });
  assert.equal(second.contact_id, first.contact_id, 'the same person');
  assert.notEqual(second.visitor_token, first.visitor_token, 'each device has its own token');
  assert.deepEqual(second.conversations.map((c) => c.id), [sent.message.conversation_id]);
  const synced = await request(phone, 'sync', { conversation_id: sent.message.conversation_id });
  assert.deepEqual(synced.messages.map((m) => m.content), ['from the laptop']);

  // Both devices' tokens keep working without the identity.
  const { session: again } = await connectVisitor(server, setup.widgetToken, { visitorToken: first.visitor_token });
  assert.equal(again.contact_id, first.contact_id);
  const contact = (await api(server, 'GET', `/api/v1/contacts/${first.contact_id}`, { token: setup.admin })).body.contact;
  assert.equal(contact.external_id, id);
  assert.equal(contact.name, 'Han Meimei');
  assert.equal(contact.email, 'han@example.com');
  laptop.close();
  phone.close();
});

test('an anonymous visitor who signs in keeps the conversation they started', async () => {
  const setup = await setupTeam(server);
  const secret = await secretOf(setup);
  const { socket: anon, session } = await connectVisitor(server, setup.widgetToken);
  const sent = await request(anon, 'message:send', { client_id: uid('c'), content: 'before signing in' });
  anon.close();
  const id = uid('customer-user');
  const { socket, session: signedIn } = await connectVisitor(server, setup.widgetToken, {
    visitorToken: session.visitor_token, identity: { id, hash: sign(secret, id) },
  });
  assert.equal(signedIn.contact_id, session.contact_id);
  assert.equal(signedIn.visitor_token, session.visitor_token);
  assert.equal(signedIn.conversations[0].id, sent.message.conversation_id);
  socket.close();

  // Someone else signing in on that browser is another person, with nothing of the first one's.
  const other = uid('customer-user');
  const { socket: next, session: theirs } = await connectVisitor(server, setup.widgetToken, {
    visitorToken: session.visitor_token, identity: { id: other, hash: sign(secret, other) },
  });
  assert.notEqual(theirs.contact_id, session.contact_id);
  assert.deepEqual(theirs.conversations, []);
  next.close();
});

test('a wrong hash, or one made with a rotated secret, is ignored and said so', async () => {
  const setup = await setupTeam(server);
  const secret = await secretOf(setup);
  const id = uid('customer-user');
  const { socket: a, session: wrong } = await connectVisitor(server, setup.widgetToken, {
    identity: { id, name: 'Mallory', hash: sign('not-the-secret', id) },
  });
  assert.equal(wrong.identity.verified, false);
  assert.match(wrong.identity.reason, /HMAC-SHA256/);
  const anon = (await api(server, 'GET', `/api/v1/contacts/${wrong.contact_id}`, { token: setup.admin })).body.contact;
  assert.equal(anon.external_id, null, 'an anonymous contact');
  assert.match(anon.name, /^Visitor /, 'the claimed name is not taken');
  a.close();

  const rotated = await api(server, 'POST', `/api/v1/inboxes/${setup.inbox.id}/identity_secret`, { token: setup.admin });
  assert.equal(rotated.status, 200);
  assert.notEqual(rotated.body.inbox.identity_secret, secret);
  const { socket: b, session: stale } = await connectVisitor(server, setup.widgetToken, {
    identity: { id, hash: sign(secret, id) },
  });
  assert.equal(stale.identity.verified, false, 'the old secret no longer verifies');
  b.close();
  const { socket: c, session: fresh } = await connectVisitor(server, setup.widgetToken, {
    identity: { id, hash: sign(rotated.body.inbox.identity_secret, id) },
  });
  assert.deepEqual(fresh.identity, { verified: true });
  c.close();

  const { socket: d, session: badEmail } = await connectVisitor(server, setup.widgetToken, {
    identity: { id, email: 'not an email', hash: sign(rotated.body.inbox.identity_secret, id) },
  });
  assert.equal(badEmail.identity.verified, false);
  assert.match(badEmail.identity.reason, /email is invalid/);
  d.close();
});

test('only admins see or rotate the identity secret', async () => {
  const setup = await setupTeam(server, { supervisor: true });
  const agentView = (await api(server, 'GET', `/api/v1/inboxes/${setup.inbox.id}`, { token: setup.agents[0].token })).body.inbox;
  assert.equal(agentView.identity_secret, null);
  const list = (await api(server, 'GET', '/api/v1/inboxes', { token: setup.supervisor.token })).body.inboxes;
  assert.ok(list.every((i) => i.identity_secret === null));
  const refused = await api(server, 'POST', `/api/v1/inboxes/${setup.inbox.id}/identity_secret`, { token: setup.supervisor.token });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'forbidden');
});

test('a user chooses the workspace language, and it is remembered', async () => {
  const { agents } = await setupTeam(server);
  const token = agents[0].token;
  assert.equal((await api(server, 'GET', '/api/v1/auth/me', { token })).body.user.locale, null, 'follows the browser');
  const set = await api(server, 'PATCH', '/api/v1/auth/me', { token, body: { locale: 'zh-CN' } });
  assert.equal(set.status, 200);
  assert.equal(set.body.user.locale, 'zh-CN');
  assert.equal((await api(server, 'GET', '/api/v1/auth/me', { token })).body.user.locale, 'zh-CN');
  const { session } = await connectAgent(server, token);
  assert.equal(session.user.locale, 'zh-CN');
  const bad = await api(server, 'PATCH', '/api/v1/auth/me', { token, body: { locale: 'fr' } });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.error.code, 'invalid_input');
  const cleared = await api(server, 'PATCH', '/api/v1/auth/me', { token, body: { locale: null } });
  assert.equal(cleared.body.user.locale, null);
});

test('conversations carry the contact\'s current name', async () => {
  const { agent, visitor, cid, agents } = await startConversation(server);
  const named = await request(visitor, 'visitor:identify', { name: 'Li Lei' });
  assert.equal(named.ok, true);
  const page = (await api(server, 'GET', `/api/v1/conversations?assignee_id=${agents[0].id}`, { token: agents[0].token })).body;
  assert.equal(page.conversations.find((c) => c.id === cid).contact_name, 'Li Lei');
  await request(agent, 'conversation:close', { conversation_id: cid });
  const update = await agent.next('conversation:updated', (d) => d.conversation.id === cid && d.conversation.status === 'closed');
  assert.equal(update.conversation.contact_name, 'Li Lei');
  agent.close();
  visitor.close();
});

test('the agent serving a contact reads their earlier conversations with other agents', async () => {
  const setup = await setupTeam(server, { agents: 2 });
  const [first, second] = setup.agents;
  const firstSocket = await onlineAgent(server, first);
  const { socket: visitor, session } = await connectVisitor(server, setup.widgetToken);
  const earlier = await request(visitor, 'message:send', { client_id: uid('c'), content: 'my first question' });
  const oldId = earlier.message.conversation_id;
  await firstSocket.next('conversation:assigned', (d) => d.conversation.id === oldId);
  await request(firstSocket, 'message:send', { conversation_id: oldId, client_id: uid('r'), content: 'answered', private: false });
  await request(firstSocket, 'conversation:close', { conversation_id: oldId });
  await request(firstSocket, 'status:set', { status: 'offline' });

  // Before the second agent serves this contact, the history is not theirs.
  const before = await api(server, 'GET', `/api/v1/conversations?contact_id=${session.contact_id}`, { token: second.token });
  assert.deepEqual(before.body.conversations, [], 'an agent lists only their own');
  assert.equal((await api(server, 'GET', `/api/v1/conversations/${oldId}/messages`, { token: second.token })).status, 403);

  const secondSocket = await onlineAgent(server, second);
  const now = await request(visitor, 'message:send', { client_id: uid('c'), content: 'another question' });
  await secondSocket.next('conversation:assigned', (d) => d.conversation.id === now.message.conversation_id);
  const history = await api(server, 'GET', `/api/v1/conversations?contact_id=${session.contact_id}`, { token: second.token });
  assert.deepEqual(history.body.conversations.map((c) => c.id).sort(), [oldId, now.message.conversation_id].sort());
  const messages = await api(server, 'GET', `/api/v1/conversations/${oldId}/messages`, { token: second.token });
  assert.deepEqual(messages.body.messages.map((m) => m.content), ['my first question', 'answered']);
  const synced = await request(secondSocket, 'sync', { conversation_id: oldId });
  assert.equal(synced.ok, true);
  // Reading is all: the earlier conversation is still not theirs to act on.
  const reopen = await request(secondSocket, 'conversation:reopen', { conversation_id: oldId });
  assert.equal(reopen.ok, false);
  assert.equal(reopen.error.code, 'forbidden');
  firstSocket.close();
  secondSocket.close();
  visitor.close();
});

test('the workspace is served at /app/, and its pages fall back to it', async () => {
  const index = await fetch(`${server.url}/app/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  const deep = await fetch(`${server.url}/app/admin/inboxes`);
  assert.equal(deep.status, 200);
  assert.equal(await deep.text(), html);
  const bare = await fetch(`${server.url}/app`, { redirect: 'manual' });
  assert.equal(bare.status, 308);
  assert.equal(bare.headers.get('location'), '/app/');
  const script = html.match(/src="([^"]+\.js)"/)[1];
  const asset = await fetch(server.url + script);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('cache-control'), /immutable/);
  assert.equal((await fetch(`${server.url}/app/assets/missing-0000.js`)).status, 404);
});
