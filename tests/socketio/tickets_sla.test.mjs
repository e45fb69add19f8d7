// An SLA breach as it happens: a ticket whose first response is due in one minute is announced to supervisors
// once the minute has passed, and the breach is in its history. In its own file so the wait overlaps others.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, setupTeam, connectAgent, api } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('a missed first response is announced to supervisors once, and written to the history', { timeout: 120_000 }, async () => {
  const { admin, supervisor } = await setupTeam(server, { supervisor: true });
  await api(server, 'PUT', '/api/v1/sla_policies', {
    token: admin, body: { policies: [{ priority: 'urgent', first_response_mins: 1 }] },
  });
  const { socket: sup } = await connectAgent(server, supervisor.token);
  const t = (await api(server, 'POST', '/api/v1/tickets', { token: admin, body: { subject: 'Nobody answers', priority: 'urgent' } })).body.ticket;
  const answered = (await api(server, 'POST', '/api/v1/tickets', { token: admin, body: { subject: 'Answered in time', priority: 'urgent' } })).body.ticket;
  await api(server, 'POST', `/api/v1/tickets/${answered.id}/comments`, { token: admin, body: { content: 'On it' } });

  const breach = await sup.next('ticket:sla_breached', (d) => d.ticket.id === t.id, 90_000);
  assert.equal(breach.target, 'first_response');
  assert.equal(breach.ticket.sla.state, 'breached');
  assert.deepEqual(breach.ticket.sla.breached, ['first_response']);
  assert.ok(Date.now() >= Date.parse(t.sla.first_response_due));
  const { events } = (await api(server, 'GET', `/api/v1/tickets/${t.id}`, { token: admin })).body;
  const announced = events.filter((e) => e.kind === 'sla_breached');
  assert.equal(announced.length, 1);
  assert.equal(announced[0].field, 'first_response');
  assert.equal(announced[0].actor.kind, 'system');
  const breached = (await api(server, 'GET', '/api/v1/tickets?sla=breached', { token: admin })).body.tickets.map((x) => x.id);
  assert.deepEqual(breached, [t.id], 'the answered ticket is not breached');
  // Announced once: later looks of the timer stay quiet.
  assert.equal(sup.all('ticket:sla_breached').filter((d) => d.ticket.id === t.id).length, 0);
  sup.close();
});

test('a solved ticket closes by itself after the configured time, said so in its history', async () => {
  // Its own server: a two-second auto-close (KEFU_TICKET_AUTOCLOSE_DAYS takes fractions of a day).
  const quick = await startServer({ env: { KEFU_TICKET_AUTOCLOSE_DAYS: '0.000025' } });
  try {
    const { admin, supervisor } = await setupTeam(quick, { supervisor: true });
    const { socket: sup } = await connectAgent(quick, supervisor.token);
    const t = (await api(quick, 'POST', '/api/v1/tickets', { token: admin, body: { subject: 'Done soon' } })).body.ticket;
    const open = (await api(quick, 'POST', '/api/v1/tickets', { token: admin, body: { subject: 'Still open' } })).body.ticket;
    await api(quick, 'PATCH', `/api/v1/tickets/${t.id}`, { token: admin, body: { status: 'solved' } });
    const closed = await sup.next('ticket:updated', (d) => d.ticket.id === t.id && d.ticket.status === 'closed', 20_000);
    assert.ok(Date.parse(closed.ticket.closed_at) - Date.parse(closed.ticket.solved_at) >= 2000);
    const { events } = (await api(quick, 'GET', `/api/v1/tickets/${t.id}`, { token: admin })).body;
    const last = events.at(-1);
    assert.deepEqual([last.actor.kind, last.field, last.old, last.new], ['system', 'status', 'solved', 'closed']);
    const untouched = (await api(quick, 'GET', `/api/v1/tickets/${open.id}`, { token: admin })).body.ticket;
    assert.equal(untouched.status, 'new', 'only solved tickets close');
    sup.close();
  } finally {
    await quick.stop();
  }
});
