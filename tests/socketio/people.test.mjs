// One customer on two channels: an agent finds the other contact, merges them into one person, and the person's
// conversations on every channel are listed together; unmerging splits them again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupTeam, startConversation, uid, api } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('contacts of two channels become one person whose conversations are listed together, and can be split again', async () => {
  const { admin, agents, agent, visitor, cid } = await startConversation(server, { content: 'web question' });
  const token = agents[0].token;
  const webContact = (await api(server, 'GET', `/api/v1/conversations/${cid}`, { token })).body.conversation.contact_id;
  await api(server, 'PATCH', `/api/v1/contacts/${webContact}`, { token, body: { name: 'Liu Yang 刘洋' } });

  // The same person writes through an integration (an API inbox).
  const setup = await setupTeam(server);
  const apiInbox = (await api(server, 'POST', '/api/v1/inboxes', { token: admin, body: { kind: 'api', name: uid('api'), teams: [setup.team.id], settings: {} } })).body.inbox;
  const crmId = uid('crm');
  const posted = await fetch(`${server.url}${apiInbox.webhook_path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiInbox.identity_secret}` },
    body: JSON.stringify({ contact: { id: crmId, name: 'Liu Yang (CRM)' }, message: { id: 'x1', content: 'crm question' } }),
  });
  const crmConversation = (await posted.json()).message.conversation_id;
  const crmContact = (await api(server, 'GET', `/api/v1/conversations/${crmConversation}`, { token: admin })).body.conversation.contact_id;

  const found = (await api(server, 'GET', `/api/v1/contacts?q=${encodeURIComponent('liu yang')}`, { token })).body.contacts;
  assert.deepEqual(new Set(found.map((c) => c.id)), new Set([webContact, crmContact]), 'found by name, either case');
  assert.equal((await api(server, 'GET', '/api/v1/contacts?q=%25', { token })).body.contacts.length, 0, '% means itself');
  assert.equal((await api(server, 'GET', '/api/v1/contacts?q=', { token })).status, 422);

  const alone = (await api(server, 'GET', `/api/v1/conversations?person_of=${webContact}`, { token: admin })).body.conversations;
  assert.deepEqual(alone.map((c) => c.id), [cid]);

  const merged = await api(server, 'POST', `/api/v1/contacts/${webContact}/person`, { token, body: { contact_id: crmContact } });
  assert.equal(merged.status, 200, JSON.stringify(merged.body));
  assert.deepEqual(new Set(merged.body.contacts.map((c) => c.id)), new Set([webContact, crmContact]));
  assert.equal(new Set(merged.body.contacts.map((c) => c.person_id)).size, 1, 'one person');
  const both = (await api(server, 'GET', `/api/v1/conversations?person_of=${crmContact}`, { token: admin })).body.conversations;
  assert.deepEqual(new Set(both.map((c) => c.id)), new Set([cid, crmConversation]), 'every channel\'s history, from either contact');
  // Each channel still answers its own contact: the web conversation is still the web contact's.
  const web = (await api(server, 'GET', `/api/v1/conversations?contact_id=${webContact}`, { token: admin })).body.conversations;
  assert.deepEqual(web.map((c) => c.id), [cid]);
  assert.equal((await api(server, 'POST', `/api/v1/contacts/${crmContact}/person`, { token, body: { contact_id: webContact } })).status, 409);

  // Split again, from the contact the person was named after.
  const root = merged.body.contacts.find((c) => c.id === c.person_id);
  const split = await api(server, 'DELETE', `/api/v1/contacts/${root.id}/person`, { token });
  assert.equal(split.status, 200, JSON.stringify(split.body));
  assert.equal(split.body.contact.person_id, root.id);
  const other = root.id === webContact ? crmContact : webContact;
  assert.deepEqual((await api(server, 'GET', `/api/v1/contacts/${other}/person`, { token })).body.contacts.map((c) => c.id), [other]);
  assert.equal((await api(server, 'DELETE', `/api/v1/contacts/${other}/person`, { token })).status, 409);
  assert.equal((await api(server, 'POST', `/api/v1/contacts/${other}/person`, { token, body: { contact_id: '00000000-0000-7000-8000-000000000000' } })).status, 404);
  agent.close();
  visitor.close();
});
