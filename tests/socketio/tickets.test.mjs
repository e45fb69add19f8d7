// Tickets through the real server: numbering, requesters, every change in the history, comments and the first
// response, bulk status changes, chats turned into tickets, list filters, SLA policies and team working hours,
// and the pushes the workspace keeps its lists live with.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupTeam, connectAgent, startConversation, request, uid, api } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const post = (token, path, body) => api(server, 'POST', path, { token, body });
const patch = (token, path, body) => api(server, 'PATCH', path, { token, body });
const get = (token, path) => api(server, 'GET', path, { token });

test('tickets are numbered per organisation and find their requester by email', async () => {
  const { admin } = await setupTeam(server);
  const email = `${uid('cust')}@example.com`;
  const first = await post(admin, '/api/v1/tickets', {
    subject: '  Refund for order A-1 ', description: 'It arrived broken.', requester: { name: 'Li Lei', email },
  });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const t = first.body.ticket;
  assert.equal(t.subject, 'Refund for order A-1');
  assert.equal(t.status, 'new');
  assert.equal(t.priority, 'normal');
  assert.equal(t.requester.name, 'Li Lei');
  assert.equal(t.requester.email, email);
  assert.deepEqual(t.sla, { first_response_due: null, next_response_due: null, resolution_due: null, state: 'none', breached: [] });
  const second = (await post(admin, '/api/v1/tickets', { subject: 'Again', requester: { email: email.toUpperCase() } })).body.ticket;
  assert.equal(second.number, t.number + 1);
  assert.equal(second.requester.id, t.requester.id, 'the same person, found by email');

  const detail = (await get(admin, `/api/v1/tickets/${t.id}`)).body;
  assert.equal(detail.ticket.id, t.id);
  assert.deepEqual(detail.events.map((e) => e.kind), ['created']);
  assert.equal(detail.events[0].actor.kind, 'agent');

  for (const [body, field] of [
    [{ subject: '' }, 'subject'],
    [{ subject: 'x', priority: 'extreme' }, null],
    [{ subject: 'x', requester: {} }, 'requester'],
    [{ subject: 'x', tags: ['a,b'] }, 'tags'],
    [{ subject: 'x', assignee_id: '00000000-0000-7000-8000-000000000000' }, null],
  ]) {
    const bad = await post(admin, '/api/v1/tickets', body);
    assert.ok([400, 404, 422].includes(bad.status), `${JSON.stringify(body)} -> ${bad.status}`);
    if (field) assert.match(bad.body.error.message, new RegExp(field));
  }
});

test('every change is written to the history, and a closed ticket is final', async () => {
  const { admin, agents, team } = await setupTeam(server);
  const t = (await post(admin, '/api/v1/tickets', { subject: 'Printer on fire', tags: ['Hardware'] })).body.ticket;
  assert.deepEqual(t.tags, ['hardware']);
  const changed = await patch(admin, `/api/v1/tickets/${t.id}`, {
    status: 'open', priority: 'urgent', assignee_id: agents[0].id, team_id: team.id, tags: ['hardware', 'vip'], subject: 'Printer still on fire',
  });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal(changed.body.ticket.assignee.id, agents[0].id);
  const events = (await get(admin, `/api/v1/tickets/${t.id}`)).body.events.filter((e) => e.kind === 'changed');
  const byField = Object.fromEntries(events.map((e) => [e.field, [e.old, e.new]]));
  assert.deepEqual(byField.status, ['new', 'open']);
  assert.deepEqual(byField.priority, ['normal', 'urgent']);
  assert.deepEqual(byField.assignee, [null, 'Agent 1']);
  assert.deepEqual(byField.team, [null, team.name]);
  assert.deepEqual(byField.tags, ['hardware', 'hardware,vip']);
  assert.deepEqual(byField.subject, ['Printer on fire', 'Printer still on fire']);

  // Unassigning is a change too; sending the same values again is not.
  await patch(admin, `/api/v1/tickets/${t.id}`, { assignee_id: null, priority: 'urgent' });
  const after = (await get(admin, `/api/v1/tickets/${t.id}`)).body;
  assert.equal(after.ticket.assignee, null);
  assert.equal(after.events.filter((e) => e.field === 'priority').length, 1);
  assert.deepEqual(after.events.at(-1).new, null);

  const solved = (await patch(admin, `/api/v1/tickets/${t.id}`, { status: 'solved' })).body.ticket;
  assert.ok(solved.solved_at);
  const reopened = (await patch(admin, `/api/v1/tickets/${t.id}`, { status: 'open' })).body.ticket;
  assert.equal(reopened.solved_at, null);
  const closed = (await patch(admin, `/api/v1/tickets/${t.id}`, { status: 'closed' })).body.ticket;
  assert.ok(closed.closed_at);
  const refused = await patch(admin, `/api/v1/tickets/${t.id}`, { status: 'open' });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error.code, 'ticket_closed');
  const noComment = await post(admin, `/api/v1/tickets/${t.id}/comments`, { content: 'hello?' });
  assert.equal(noComment.body.error.code, 'ticket_closed');
  assert.equal((await patch(admin, `/api/v1/tickets/${t.id}`, { nonsense: 1 })).status, 400);
});

test('a reply is the first response and opens a new ticket; an internal note is neither', async () => {
  const { admin } = await setupTeam(server);
  const t = (await post(admin, '/api/v1/tickets', { subject: 'Where is my parcel?' })).body.ticket;
  const note = await post(admin, `/api/v1/tickets/${t.id}/comments`, { content: 'Checking with the courier', private: true });
  assert.equal(note.status, 201);
  assert.equal(note.body.event.private, true);
  let now = (await get(admin, `/api/v1/tickets/${t.id}`)).body;
  assert.equal(now.ticket.first_response_at, null);
  assert.equal(now.ticket.status, 'new');
  const reply = await post(admin, `/api/v1/tickets/${t.id}/comments`, { content: 'It arrives tomorrow.' });
  assert.equal(reply.body.event.kind, 'comment');
  now = (await get(admin, `/api/v1/tickets/${t.id}`)).body;
  assert.ok(now.ticket.first_response_at);
  assert.equal(now.ticket.status, 'open');
  assert.deepEqual(now.events.map((e) => `${e.kind}:${e.field ?? ''}`), ['created:', 'comment:', 'comment:', 'changed:status']);
  assert.equal((await post(admin, `/api/v1/tickets/${t.id}/comments`, { content: '   ' })).body.error.code, 'empty_message');
});

test('bulk status changes apply to all tickets or to none', async () => {
  const { admin } = await setupTeam(server);
  const tag = uid('bulk').toLowerCase().slice(0, 30);
  const ids = [];
  for (const subject of ['one', 'two', 'three']) {
    ids.push((await post(admin, '/api/v1/tickets', { subject, tags: [tag] })).body.ticket.id);
  }
  const done = await post(admin, '/api/v1/tickets/bulk', { ids: ids.slice(0, 2), status: 'pending' });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.deepEqual(done.body.tickets.map((t) => t.status), ['pending', 'pending']);
  await patch(admin, `/api/v1/tickets/${ids[2]}`, { status: 'closed' });
  const refused = await post(admin, '/api/v1/tickets/bulk', { ids, status: 'solved' });
  assert.equal(refused.status, 422);
  assert.match(refused.body.error.message, /is closed/);
  const listed = (await get(admin, `/api/v1/tickets?tag=${tag}`)).body.tickets;
  assert.deepEqual(listed.map((t) => t.status).sort(), ['closed', 'pending', 'pending'], 'nothing changed');
});

test('a chat becomes a ticket once, for its contact, named after what the visitor asked', async () => {
  const { agent, visitor, cid, agents, admin } = await startConversation(server, { content: 'My invoice is wrong\nIt says 100 instead of 80' });
  await request(visitor, 'visitor:identify', { name: 'Han Meimei', email: `${uid('han')}@example.com` });
  const made = await post(agents[0].token, `/api/v1/conversations/${cid}/ticket`, {});
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const t = made.body.ticket;
  assert.equal(t.subject, 'My invoice is wrong');
  assert.equal(t.description, 'My invoice is wrong\nIt says 100 instead of 80');
  assert.equal(t.conversation_id, cid);
  assert.equal(t.requester.name, 'Han Meimei');
  assert.equal(t.assignee.id, agents[0].id, 'the agent who had the chat has the ticket');
  const again = await post(admin, `/api/v1/conversations/${cid}/ticket`, { subject: 'dup' });
  assert.equal(again.status, 409);
  assert.match(again.body.error.message, new RegExp(`#${t.number}`));
  agent.close();
  visitor.close();
});

test('lists filter by status, priority, assignee, team, tag, search and SLA state', async () => {
  const { admin, agents, team } = await setupTeam(server);
  const tag = uid('list').toLowerCase().slice(0, 30);
  const mk = async (body) => (await post(admin, '/api/v1/tickets', { tags: [tag], ...body })).body.ticket;
  const a = await mk({ subject: 'Alpha problem', priority: 'high', assignee_id: agents[0].id });
  const b = await mk({ subject: 'Beta question', team_id: team.id });
  const c = await mk({ subject: 'Gamma 100% off_sale' });
  await patch(admin, `/api/v1/tickets/${c.id}`, { status: 'solved' });
  const ids = async (q) => {
    const r = await get(admin, `/api/v1/tickets?tag=${tag}${q}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.tickets.map((t) => t.id);
  };
  assert.deepEqual(await ids(''), [c.id, b.id, a.id], 'newest first');
  assert.deepEqual(await ids('&open=true'), [b.id, a.id]);
  assert.deepEqual(await ids('&status=solved,closed'), [c.id]);
  assert.deepEqual(await ids('&priority=high'), [a.id]);
  assert.deepEqual(await ids(`&assignee_id=${agents[0].id}`), [a.id]);
  assert.deepEqual(await ids('&assignee_id=none'), [c.id, b.id]);
  assert.deepEqual(await ids(`&team_id=${team.id}`), [b.id]);
  assert.deepEqual(await ids('&q=beta'), [b.id]);
  assert.deepEqual(await ids(`&q=%23${a.number}`), [a.id]);
  assert.deepEqual(await ids('&q=100%25'), [c.id], '% is matched literally');
  assert.deepEqual(await ids('&q=o_f'), [], '_ is matched literally, not as any character ("off")');
  assert.deepEqual(await ids('&sla=none'), [c.id, b.id, a.id]);
  assert.deepEqual(await ids('&sla=breached'), []);
  assert.equal((await get(admin, '/api/v1/tickets?status=sleeping')).status, 422);
  assert.equal((await get(admin, '/api/v1/tickets?assignee_id=me')).status, 422);
});

test('SLA policies give due times in the team\'s working hours; only admins set them', async () => {
  const { admin, agents, team } = await setupTeam(server);
  const policies = [
    { priority: 'urgent', first_response_mins: 30, resolution_mins: 240 },
    { priority: 'high', first_response_mins: 120, next_response_mins: 240, resolution_mins: 480 },
  ];
  const put = await api(server, 'PUT', '/api/v1/sla_policies', { token: admin, body: { policies } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual(put.body.policies.map((p) => p.priority), ['high', 'urgent']);
  const refused = await api(server, 'PUT', '/api/v1/sla_policies', { token: agents[0].token, body: { policies } });
  assert.equal(refused.status, 403);
  const twice = await api(server, 'PUT', '/api/v1/sla_policies', { token: admin, body: { policies: [policies[0], policies[0]] } });
  assert.equal(twice.status, 422);
  const zero = await api(server, 'PUT', '/api/v1/sla_policies', { token: admin, body: { policies: [{ priority: 'low', first_response_mins: 0 }] } });
  assert.equal(zero.status, 422);

  // Around the clock: due exactly 30 minutes after creation, and the state says how close it is.
  const urgent = (await post(admin, '/api/v1/tickets', { subject: 'Site down', priority: 'urgent' })).body.ticket;
  const created = Date.parse(urgent.created_at);
  assert.equal(Date.parse(urgent.sla.first_response_due) - created, 30 * 60_000);
  assert.equal(Date.parse(urgent.sla.resolution_due) - created, 240 * 60_000);
  assert.equal(urgent.sla.state, 'due_soon');

  // A team that works nowhere near now: the clock only starts at its next opening.
  const hours = { enabled: true, timezone: 'UTC', mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };
  const today = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 3) % 7];
  hours[today] = [{ from: '10:00', to: '11:00' }];
  const set = await patch(admin, `/api/v1/teams/${team.id}`, { business_hours: hours });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(set.body.team.business_hours[today], [{ from: '10:00', to: '11:00' }]);
  const later = (await post(admin, '/api/v1/tickets', { subject: 'Mid-week', priority: 'urgent', team_id: team.id })).body.ticket;
  const due = new Date(later.sla.first_response_due);
  assert.equal(due.getUTCHours(), 10);
  assert.equal(due.getUTCMinutes(), 30);
  assert.ok(due - Date.now() > 24 * 3600_000, 'three days ahead');
  assert.equal(later.sla.state, 'ok');
  const okIds = (await get(admin, `/api/v1/tickets?team_id=${team.id}&sla=ok`)).body.tickets.map((t) => t.id);
  assert.deepEqual(okIds, [later.id]);

  // Moving the ticket to another priority recomputes its due times.
  const moved = (await patch(admin, `/api/v1/tickets/${later.id}`, { priority: 'low' })).body.ticket;
  assert.equal(moved.sla.first_response_due, null);
  assert.equal(moved.sla.state, 'none');
  const badHours = await patch(admin, `/api/v1/teams/${team.id}`, { name: 'renamed', business_hours: { timezone: 'Mars/Base' } });
  assert.equal(badHours.status, 422);
  assert.notEqual((await get(admin, `/api/v1/teams/${team.id}`)).body.team.name, 'renamed', 'a refused request changes nothing');
  const cleared = await patch(admin, `/api/v1/teams/${team.id}`, { business_hours: null });
  assert.equal(cleared.body.team.business_hours, null);
  await api(server, 'PUT', '/api/v1/sla_policies', { token: admin, body: { policies: [] } });
});

test('the workspace hears about ticket changes: supervisors, the assignee and the team', async () => {
  const { admin, agents, team, supervisor } = await setupTeam(server, { supervisor: true });
  const { socket: sup } = await connectAgent(server, supervisor.token);
  const { socket: agent } = await connectAgent(server, agents[0].token);
  const t = (await post(admin, '/api/v1/tickets', { subject: 'Pushed', team_id: team.id })).body.ticket;
  await sup.next('ticket:updated', (d) => d.ticket.id === t.id);
  await agent.next('ticket:updated', (d) => d.ticket.id === t.id, 10000);
  await patch(admin, `/api/v1/tickets/${t.id}`, { assignee_id: agents[0].id, team_id: null });
  const pushed = await agent.next('ticket:updated', (d) => d.ticket.id === t.id && d.ticket.assignee !== null);
  assert.equal(pushed.ticket.assignee.id, agents[0].id);
  // Taken away again: the agent it was taken from hears it too, so their list drops it.
  await patch(admin, `/api/v1/tickets/${t.id}`, { assignee_id: null });
  const dropped = await agent.next('ticket:updated', (d) => d.ticket.id === t.id && d.ticket.assignee === null);
  assert.equal(dropped.ticket.team_id, null);
  sup.close();
  agent.close();
});

test('the public ticket form: off until turned on, opens a ticket for the requester, refuses robots and floods', async () => {
  const { admin, inbox, widgetToken, team } = await setupTeam(server);
  const form = (body, headers) => api(server, 'POST', `/api/v1/forms/${widgetToken}`, { body, headers });
  const filled = { name: 'Zhou Min', email: `${uid('zm')}@example.com`, subject: 'Cannot log in', message: 'It says my password is wrong.' };
  assert.equal((await form(filled)).status, 404, 'off by default');
  assert.equal((await fetch(`${server.url}/forms/${widgetToken}`)).status, 404);

  const on = await patch(admin, `/api/v1/inboxes/${inbox.id}`, { settings: { ticket_form: { enabled: true } } });
  assert.equal(on.status, 200, JSON.stringify(on.body));
  const page = await fetch(`${server.url}/forms/${widgetToken}`, { headers: { 'accept-language': 'zh-CN,zh;q=0.9' } });
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /提交工单/);
  assert.match(html, /name="website"/, 'the honeypot is there, hidden');

  const made = await form(filled);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const ticket = (await get(admin, `/api/v1/tickets?q=%23${made.body.number}`)).body.tickets[0];
  assert.equal(ticket.subject, 'Cannot log in');
  assert.equal(ticket.requester.email, filled.email);
  assert.equal(ticket.team_id, team.id, 'the inbox\'s team has it');
  const { events } = (await get(admin, `/api/v1/tickets/${ticket.id}`)).body;
  assert.equal(events[0].actor.kind, 'contact');

  const robot = await form({ ...filled, subject: 'Buy now', website: 'http://spam.example' });
  assert.equal(robot.status, 422);
  assert.match(robot.body.error.message, /robot/);
  assert.equal((await get(admin, '/api/v1/tickets?q=Buy%20now')).body.tickets.length, 0, 'nothing was opened');
  assert.equal((await form({ ...filled, email: 'not-an-email' })).status, 422);
  assert.equal((await form({ ...filled, subject: ' ' })).status, 422);

  // Five from one address in ten minutes; the sixth waits.
  for (let i = 0; i < 4; i++) assert.equal((await form({ ...filled, subject: `again ${i}` })).status, 201);
  const flood = await form({ ...filled, subject: 'one too many' });
  assert.equal(flood.status, 429);
  assert.equal(flood.body.error.code, 'rate_limited');
  assert.ok(Number(flood.headers.get('retry-after')) > 0);
});
