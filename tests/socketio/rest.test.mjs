// The REST API through the real server: sessions, the login throttle, roles, errors, listing and contacts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupTeam, connectVisitor, connectAgent, onlineAgent, request, uid, api, login, ADMIN } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('health and readiness probes answer', async () => {
  assert.deepEqual((await api(server, 'GET', '/healthz')).body, { status: 'up' });
  assert.deepEqual((await api(server, 'GET', '/readyz')).body, { status: 'ready' });
});

test('login gives a token that works until logout revokes it', async () => {
  const token = await login(server, ADMIN.email.toUpperCase(), ADMIN.password);
  const me = await api(server, 'GET', '/api/v1/auth/me', { token });
  assert.equal(me.status, 200);
  assert.equal(me.body.user.email, ADMIN.email);
  assert.equal(me.body.user.role, 'admin');
  assert.equal(JSON.stringify(me.body).includes('password'), false, 'no password hash leaks');
  assert.equal((await api(server, 'POST', '/api/v1/auth/logout', { token })).status, 204);
  const after = await api(server, 'GET', '/api/v1/auth/me', { token });
  assert.equal(after.status, 401);
  assert.equal(after.body.error.code, 'unauthorized');
  await assert.rejects(connectAgent(server, token), /unauthorized/);
});

test('logging out closes the sockets of that session only', async () => {
  const { agents } = await setupTeam(server);
  const email = agents[0].email;
  const other = await login(server, email, 'agent-password-1');
  const { socket: mine } = await connectAgent(server, agents[0].token);
  const { socket: otherTab } = await connectAgent(server, other);
  const closed = new Promise((resolve) => mine.once('disconnect', resolve));
  assert.equal((await api(server, 'POST', '/api/v1/auth/logout', { token: agents[0].token })).status, 204);
  await closed;
  const stillThere = await request(otherTab, 'status:set', { status: 'online' });
  assert.equal(stillThere.ok, true, 'the other session is untouched');
  otherTab.close();
});

test('deactivating an agent or changing their teams closes their open sockets', async () => {
  const { agents, admin, team } = await setupTeam(server, { agents: 2 });
  const { socket: first } = await connectAgent(server, agents[0].token);
  const gone = new Promise((resolve) => first.once('disconnect', resolve));
  await api(server, 'POST', `/api/v1/users/${agents[0].id}/deactivate`, { token: admin });
  await gone;
  await assert.rejects(connectAgent(server, agents[0].token), /unauthorized/);
  const { socket: second } = await connectAgent(server, agents[1].token);
  const moved = new Promise((resolve) => second.once('disconnect', resolve));
  await api(server, 'DELETE', `/api/v1/teams/${team.id}/members/${agents[1].id}`, { token: admin });
  await moved;
  const { session } = await connectAgent(server, agents[1].token);
  assert.deepEqual(session.user.teams, [], 'a reconnect picks up the new teams');
});

test('the session cookie works for reads and needs the CSRF header for writes', async () => {
  const r = await api(server, 'POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password } });
  const cookies = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  assert.match(r.headers.getSetCookie().join('\n'), /kefu_session=.*HttpOnly/);
  const read = await api(server, 'GET', '/api/v1/auth/me', { headers: { cookie: cookies } });
  assert.equal(read.status, 200);
  const forged = await api(server, 'POST', '/api/v1/teams', { body: { name: uid('t') }, headers: { cookie: cookies } });
  assert.equal(forged.status, 403);
  assert.equal(forged.body.error.code, 'csrf');
  const genuine = await api(server, 'POST', '/api/v1/teams', {
    body: { name: uid('t') }, headers: { cookie: cookies, 'x-csrf-token': r.body.csrf_token },
  });
  assert.equal(genuine.status, 201);
});

test('repeated failed logins for one account are throttled; successful ones never are', async () => {
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const email = `${uid('victim')}@kefu.test`;
  await api(server, 'POST', '/api/v1/users', { token: admin, body: { email, name: 'Victim', password: 'right-password-1' } });
  for (let i = 0; i < 12; i++) await login(server, email, 'right-password-1');
  for (let i = 0; i < 5; i++) {
    const bad = await api(server, 'POST', '/api/v1/auth/login', { body: { email, password: 'wrong-password' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error.code, 'bad_credentials');
  }
  const locked = await api(server, 'POST', '/api/v1/auth/login', { body: { email, password: 'right-password-1' } });
  assert.equal(locked.status, 429);
  assert.equal(locked.body.error.code, 'rate_limited');
  assert.ok(Number(locked.headers.get('retry-after')) > 0);
  const other = await api(server, 'POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password } });
  assert.equal(other.status, 200, 'other accounts are unaffected');
});

test('too many failures from one address are throttled across accounts', async () => {
  const own = await startServer();
  try {
    for (let i = 0; i < 20; i++) {
      const r = await api(own, 'POST', '/api/v1/auth/login', { body: { email: `nobody${i}@kefu.test`, password: 'guess-guess' } });
      assert.equal(r.status, 401);
    }
    const r = await api(own, 'POST', '/api/v1/auth/login', { body: { email: 'someone-else@kefu.test', password: 'guess-guess' } });
    assert.equal(r.status, 429);
  } finally {
    await own.stop();
  }
});

test('behind a trusted load balancer failures count per client it names; from anyone else the header is ignored', async () => {
  const own = await startServer({ env: { KEFU_TRUSTED_PROXIES: '127.0.0.0/8' } });
  const untrusting = await startServer();
  try {
    const from = (ip) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 20; i++) {
      const r = await api(own, 'POST', '/api/v1/auth/login', { body: { email: `nobody${i}@kefu.test`, password: 'guess-guess' }, headers: from('203.0.113.7') });
      assert.equal(r.status, 401);
    }
    const again = await api(own, 'POST', '/api/v1/auth/login', { body: { email: 'x@kefu.test', password: 'guess-guess' }, headers: from('203.0.113.7') });
    assert.equal(again.status, 429, 'that client is throttled');
    const other = await api(own, 'POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password }, headers: from('198.51.100.9') });
    assert.equal(other.status, 200, 'another client behind the same balancer is not');

    // A peer that is not a trusted proxy cannot dodge the limit by naming a new address each time.
    for (let i = 0; i < 20; i++) {
      await api(untrusting, 'POST', '/api/v1/auth/login', { body: { email: `nobody${i}@kefu.test`, password: 'guess-guess' }, headers: from(`203.0.113.${i}`) });
    }
    const dodged = await api(untrusting, 'POST', '/api/v1/auth/login', { body: { email: 'x@kefu.test', password: 'guess-guess' }, headers: from('198.51.100.77') });
    assert.equal(dodged.status, 429);
  } finally {
    await own.stop();
    await untrusting.stop();
  }
});

test('roles are enforced: agents cannot administer or read others\' conversations', async () => {
  const { widgetToken, agents, admin, team } = await setupTeam(server, { agents: 2, capacity: 1 });
  const agentToken = agents[0].token;
  const create = await api(server, 'POST', '/api/v1/users', { token: agentToken, body: { email: `${uid('x')}@kefu.test`, name: 'X', password: 'password-123' } });
  assert.equal(create.status, 403);
  assert.equal(create.body.error.code, 'forbidden');
  assert.equal((await api(server, 'POST', '/api/v1/teams', { token: agentToken, body: { name: 'nope' } })).status, 403);
  assert.equal((await api(server, 'PATCH', `/api/v1/inboxes/${(await api(server, 'GET', '/api/v1/inboxes', { token: admin })).body.inboxes[0].id}`, { token: agentToken, body: { name: 'x' } })).status, 403);
  assert.equal((await api(server, 'DELETE', `/api/v1/teams/${team.id}`, { token: agentToken })).status, 403);

  const a1 = await onlineAgent(server, agents[0]);
  const { socket: visitor } = await connectVisitor(server, widgetToken);
  const cid = (await request(visitor, 'message:send', { client_id: uid('c'), content: 'private matter' })).message.conversation_id;
  await a1.next('conversation:assigned', (d) => d.conversation.id === cid);
  const peek = await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: agents[1].token });
  assert.equal(peek.status, 403);
  const list = await api(server, 'GET', `/api/v1/conversations?assignee_id=${agents[0].id}`, { token: agents[1].token });
  assert.equal(list.status, 403);
  const adminSees = await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: admin });
  assert.deepEqual(adminSees.body.messages.map((m) => m.content), ['private matter']);
  visitor.close(); a1.close();
});

test('errors are JSON with a stable code and never leak internals', async () => {
  const token = await login(server, ADMIN.email, ADMIN.password);
  const badJson = await api(server, 'POST', '/api/v1/teams', { token, body: '{"name": ' });
  assert.equal(badJson.status, 400);
  assert.equal(badJson.body.error.code, 'invalid_json');
  const tooBig = await api(server, 'POST', '/api/v1/teams', { token, body: JSON.stringify({ name: 'x'.repeat(300 * 1024) }) });
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.body.error.code, 'payload_too_large');
  const nowhere = await api(server, 'GET', '/api/v1/nowhere', { token });
  assert.equal(nowhere.status, 404);
  assert.equal(nowhere.body.error.code, 'not_found');
  const badQuery = await api(server, 'GET', '/api/v1/conversations?status=sideways', { token });
  assert.equal(badQuery.status, 400);
  assert.equal(badQuery.body.error.code, 'invalid_query');
  const badId = await api(server, 'GET', '/api/v1/users/not-a-uuid', { token });
  assert.equal(badId.status, 400);
  assert.equal(badId.body.error.code, 'invalid_path');
  const badEmail = await api(server, 'POST', '/api/v1/users', { token, body: { email: 'nope', name: 'N', password: 'password-123' } });
  assert.equal(badEmail.status, 422);
  assert.equal(badEmail.body.error.code, 'invalid_input');
  const dup = await api(server, 'POST', '/api/v1/users', { token, body: { email: ADMIN.email, name: 'Again', password: 'password-123' } });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.code, 'conflict');
  for (const r of [badJson, tooBig, nowhere, badQuery, badId, badEmail, dup]) {
    assert.doesNotMatch(JSON.stringify(r.body), /sqlx|SELECT|panicked|\.rs:/);
  }
});

test('admins manage users, teams and inboxes', async () => {
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const created = await api(server, 'POST', '/api/v1/users', { token: admin, body: { email: `${uid('s')}@kefu.test`, name: 'Sup', password: 'password-123', role: 'supervisor', capacity: 3 } });
  assert.equal(created.status, 201);
  assert.equal(created.body.user.capacity, 3);
  const id = created.body.user.id;
  const patched = await api(server, 'PATCH', `/api/v1/users/${id}`, { token: admin, body: { capacity: 8, name: '主管' } });
  assert.deepEqual([patched.body.user.capacity, patched.body.user.name], [8, '主管']);
  const team = (await api(server, 'POST', '/api/v1/teams', { token: admin, body: { name: uid('售后') } })).body.team;
  const withMember = await api(server, 'PUT', `/api/v1/teams/${team.id}/members/${id}`, { token: admin });
  assert.deepEqual(withMember.body.team.members, [id]);
  const user = await api(server, 'GET', `/api/v1/users/${id}`, { token: admin });
  assert.deepEqual(user.body.user.teams, [team.id]);
  const inbox = await api(server, 'POST', '/api/v1/inboxes', { token: admin, body: { kind: 'web', name: 'Shop', teams: [team.id], settings: { color: '#0a84ff' } } });
  assert.equal(inbox.status, 201);
  assert.equal(inbox.body.inbox.widget_token.length, 43);
  const badKind = await api(server, 'POST', '/api/v1/inboxes', { token: admin, body: { kind: 'carrier-pigeon', name: 'x' } });
  assert.equal(badKind.status, 400);
  const updated = await api(server, 'PATCH', `/api/v1/inboxes/${inbox.body.inbox.id}`, { token: admin, body: { settings: { color: '#ff0000' } } });
  assert.deepEqual(updated.body.inbox.settings, { color: '#ff0000' });
  const list = await api(server, 'GET', '/api/v1/inboxes', { token: admin });
  const website = list.body.inboxes.find((i) => i.name === 'Website');
  assert.ok(website, 'the first inbox, "Website", exists from the start');
  assert.equal(website.kind, 'web');

  const userToken = await login(server, created.body.user.email, 'password-123');
  const deactivated = await api(server, 'POST', `/api/v1/users/${id}/deactivate`, { token: admin });
  assert.equal(deactivated.body.user.active, false);
  assert.equal((await api(server, 'GET', '/api/v1/auth/me', { token: userToken })).status, 401, 'sessions end with deactivation');
  const relogin = await api(server, 'POST', '/api/v1/auth/login', { body: { email: created.body.user.email, password: 'password-123' } });
  assert.equal(relogin.status, 401);
  const self = await api(server, 'POST', `/api/v1/users/${(await api(server, 'GET', '/api/v1/auth/me', { token: admin })).body.user.id}/deactivate`, { token: admin });
  assert.equal(self.status, 403);
});

test('conversations list by filter with a cursor, and contacts can be read and updated', async () => {
  const { widgetToken, agents, admin } = await setupTeam(server, { capacity: 10 });
  const agent = await onlineAgent(server, agents[0]);
  const cids = [];
  let contactId;
  for (let i = 0; i < 5; i++) {
    const { socket, session } = await connectVisitor(server, widgetToken);
    contactId = session.contact_id;
    cids.push((await request(socket, 'message:send', { client_id: uid('c'), content: `hi ${i}` })).message.conversation_id);
    socket.close();
  }
  for (const cid of cids) await agent.next('conversation:assigned', (d) => d.conversation.id === cid);
  const page1 = await api(server, 'GET', `/api/v1/conversations?assignee_id=${agents[0].id}&status=assigned&limit=3`, { token: admin });
  assert.equal(page1.body.conversations.length, 3);
  assert.ok(page1.body.next_cursor);
  const page2 = await api(server, 'GET', `/api/v1/conversations?assignee_id=${agents[0].id}&status=assigned&limit=3&cursor=${page1.body.next_cursor}`, { token: admin });
  assert.equal(page2.body.conversations.length, 2);
  assert.equal(page2.body.next_cursor, null);
  const all = [...page1.body.conversations, ...page2.body.conversations].map((c) => c.id);
  assert.deepEqual(all, [...cids].reverse(), 'newest first, no overlap');
  const mine = await api(server, 'GET', '/api/v1/conversations', { token: agents[0].token });
  assert.equal(mine.body.conversations.length, 5, 'an agent lists their own by default');

  const contact = await api(server, 'GET', `/api/v1/contacts/${contactId}`, { token: admin });
  assert.match(contact.body.contact.name, /^Visitor /);
  const updated = await api(server, 'PATCH', `/api/v1/contacts/${contactId}`, { token: admin, body: { name: '李雷', email: 'Li.Lei@Example.com', phone: '+86 138 0000 0000' } });
  assert.equal(updated.status, 200);
  assert.deepEqual([updated.body.contact.name, updated.body.contact.email, updated.body.contact.phone], ['李雷', 'li.lei@example.com', '+86 138 0000 0000']);
  const cleared = await api(server, 'PATCH', `/api/v1/contacts/${contactId}`, { token: admin, body: { phone: null } });
  assert.equal(cleared.body.contact.phone, null);
  assert.equal(cleared.body.contact.email, 'li.lei@example.com');
  const bad = await api(server, 'PATCH', `/api/v1/contacts/${contactId}`, { token: admin, body: { email: 'not-mail' } });
  assert.equal(bad.status, 422);

  const sent = await api(server, 'POST', `/api/v1/conversations/${cids[0]}/messages`, { token: agents[0].token, body: { client_id: uid('r'), content: 'from REST' } });
  assert.equal(sent.status, 201);
  assert.equal(sent.body.message.seq, 2);
  const after = await api(server, 'GET', `/api/v1/conversations/${cids[0]}/messages?after_seq=1`, { token: agents[0].token });
  assert.deepEqual(after.body.messages.map((m) => m.content), ['from REST']);
  agent.close();
});

test('the OpenAPI 3.1 document describes the API and Swagger UI serves it', async () => {
  const doc = await api(server, 'GET', '/api/openapi.json');
  assert.equal(doc.status, 200);
  assert.match(doc.body.openapi, /^3\.1/);
  for (const path of ['/api/v1/auth/login', '/api/v1/users', '/api/v1/teams/{id}/members/{user_id}', '/api/v1/inboxes',
    '/api/v1/conversations', '/api/v1/conversations/{id}/messages', '/api/v1/contacts/{id}']) {
    assert.ok(doc.body.paths[path], `${path} is documented`);
  }
  assert.ok(doc.body.components.schemas.Conversation);
  assert.ok(doc.body.components.securitySchemes.bearer);
  const ui = await fetch(`${server.url}/api/docs/`);
  assert.equal(ui.status, 200);
  assert.match(await ui.text(), /swagger/i);
});

test('the binary serves the widget loader and chat page, and the demo page only in demo mode', async () => {
  const loader = await fetch(`${server.url}/widget.js`);
  assert.equal(loader.status, 200);
  assert.match(loader.headers.get('content-type'), /javascript/);
  assert.match(await loader.text(), /data-token/);
  const page = await fetch(`${server.url}/widget/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<script type="module"[^>]*src="\/widget\/assets\//);
  assert.equal((await fetch(`${server.url}/widget/assets/nothing.js`)).status, 404);
  const home = await api(server, 'GET', '/');
  assert.equal(home.status, 404, 'no demo page unless --demo');
});

test('the widget\'s public config follows the inbox settings, which are checked', async () => {
  const admin = await login(server, ADMIN.email, ADMIN.password);
  const team = (await api(server, 'POST', '/api/v1/teams', { token: admin, body: { name: uid('nobody-yet') } })).body.team;
  const inbox = (await api(server, 'POST', '/api/v1/inboxes', { token: admin, body: { kind: 'web', name: '官网', teams: [team.id] } })).body.inbox;
  const plain = await api(server, 'GET', `/api/v1/widget/config?token=${inbox.widget_token}`);
  const office = [{ from: '09:00', to: '18:00' }];
  assert.equal(plain.status, 200);
  assert.deepEqual(plain.body, {
    name: '官网', color: '#1677ff', position: 'right', language: 'auto', greeting: { 'zh-CN': '', en: '' },
    pre_chat: { enabled: false, fields: [] },
    working_hours: { enabled: false, timezone: 'Asia/Shanghai', mon: office, tue: office, wed: office, thu: office, fri: office, sat: [], sun: [] },
    offline_message: { 'zh-CN': '', en: '' },
    within_hours: true,
    agents_online: false,
  });
  const bad = await api(server, 'PATCH', `/api/v1/inboxes/${inbox.id}`, { token: admin, body: { settings: { widget: { color: 'red' } } } });
  assert.equal(bad.status, 422);
  assert.match(bad.body.error.message, /settings\.widget\.color/);
  const ok = await api(server, 'PATCH', `/api/v1/inboxes/${inbox.id}`, { token: admin, body: { settings: { widget: { language: 'zh-CN' } } } });
  assert.equal(ok.status, 200);
  assert.equal((await api(server, 'GET', `/api/v1/widget/config?token=${inbox.widget_token}`)).body.language, 'zh-CN');
  assert.equal((await api(server, 'GET', '/api/v1/widget/config?token=nope')).status, 404);
  // An agent of the inbox's team comes online: someone can answer now.
  const email = `${uid('member')}@kefu.test`;
  const member = (await api(server, 'POST', '/api/v1/users', { token: admin, body: { email, name: 'Member', password: 'member-password' } })).body.user;
  await api(server, 'PUT', `/api/v1/teams/${team.id}/members/${member.id}`, { token: admin });
  const socket = await onlineAgent(server, { ...member, token: await login(server, email, 'member-password') });
  assert.equal((await api(server, 'GET', `/api/v1/widget/config?token=${inbox.widget_token}`)).body.agents_online, true);
  socket.close();
  const hours = { enabled: true, timezone: 'Mars/Olympus' };
  const badHours = await api(server, 'PATCH', `/api/v1/inboxes/${inbox.id}`, { token: admin, body: { settings: { widget: { working_hours: hours } } } });
  assert.equal(badHours.status, 422);
});

test('canned replies: shared ones by admins for everyone, personal ones for their owner alone', async () => {
  const { admin, agents } = await setupTeam(server, { agents: 2 });
  const [alice, bob] = agents;
  const shared = await api(server, 'POST', '/api/v1/canned_replies', { token: admin, body: { shortcut: '/refund', content: '退款将在 3 个工作日内到账。', shared: true } });
  assert.equal(shared.status, 201, JSON.stringify(shared.body));
  assert.deepEqual([shared.body.canned_reply.shortcut, shared.body.canned_reply.shared], ['refund', true]);
  const notAdmin = await api(server, 'POST', '/api/v1/canned_replies', { token: alice.token, body: { shortcut: 'x', content: 'y', shared: true } });
  assert.equal(notAdmin.status, 403);
  const mine = await api(server, 'POST', '/api/v1/canned_replies', { token: alice.token, body: { shortcut: 'hi', content: 'Hello, this is Alice_50%!' } });
  assert.equal(mine.status, 201);
  const dup = await api(server, 'POST', '/api/v1/canned_replies', { token: alice.token, body: { shortcut: 'hi', content: 'again' } });
  assert.equal(dup.status, 409);
  const bobsOwnHi = await api(server, 'POST', '/api/v1/canned_replies', { token: bob.token, body: { shortcut: 'hi', content: 'Bob here' } });
  assert.equal(bobsOwnHi.status, 201, 'shortcuts are per owner');
  const bad = await api(server, 'POST', '/api/v1/canned_replies', { token: bob.token, body: { shortcut: 'two words', content: 'x' } });
  assert.equal(bad.status, 422);

  const aliceList = (await api(server, 'GET', '/api/v1/canned_replies', { token: alice.token })).body.canned_replies;
  assert.deepEqual(aliceList.map((r) => r.content).sort(), ['Hello, this is Alice_50%!', '退款将在 3 个工作日内到账。'].sort());
  const search = (await api(server, 'GET', `/api/v1/canned_replies?q=${encodeURIComponent('_50%')}`, { token: alice.token })).body.canned_replies;
  assert.deepEqual(search.map((r) => r.shortcut), ['hi'], 'search matches literally, % and _ included');
  const byWord = (await api(server, 'GET', `/api/v1/canned_replies?q=${encodeURIComponent('工作日')}`, { token: bob.token })).body.canned_replies;
  assert.deepEqual(byWord.map((r) => r.shortcut), ['refund']);

  assert.equal((await api(server, 'PATCH', `/api/v1/canned_replies/${mine.body.canned_reply.id}`, { token: bob.token, body: { content: 'stolen' } })).status, 404);
  assert.equal((await api(server, 'PATCH', `/api/v1/canned_replies/${shared.body.canned_reply.id}`, { token: bob.token, body: { content: 'x' } })).status, 403);
  const edited = await api(server, 'PATCH', `/api/v1/canned_replies/${mine.body.canned_reply.id}`, { token: alice.token, body: { content: 'Hi there!' } });
  assert.equal(edited.body.canned_reply.content, 'Hi there!');
  assert.equal((await api(server, 'DELETE', `/api/v1/canned_replies/${mine.body.canned_reply.id}`, { token: alice.token })).status, 204);
  assert.equal((await api(server, 'DELETE', `/api/v1/canned_replies/${shared.body.canned_reply.id}`, { token: admin })).status, 204);
});
