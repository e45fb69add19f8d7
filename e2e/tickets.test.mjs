// Tickets in the agents' workspace, in a real browser against the real binary in demo mode: the list, the form,
// a ticket's fields, history and comments, a bulk status change, a chat made into a ticket, SLA policies and a
// team's business hours, live pushes, and the Chinese list. Screenshots go to e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, DEMO_PASSWORD, launch, signIn, setStatus } from './browser.mjs';
import { startServer, login, uid, api, ADMIN } from '../tests/socketio/harness.mjs';


let server;
let browser;
let admin;

before(async () => {
  server = await startServer({ args: ['--demo'] });
  browser = await launch();
  admin = await login(server, ADMIN.email, ADMIN.password);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Someone signed in to the workspace in a browser context of their own. */
const workspace = (email, password = DEMO_PASSWORD, { locale = 'en-US', online = false } = {}) =>
  signIn(browser, server.url, email, password, { locale, online, height: 800 });

async function newAgent(name) {
  const email = `${uid('agent')}@kefu.test`;
  const created = await api(server, 'POST', '/api/v1/users', {
    token: admin, body: { email, name, password: 'agent-password-1', role: 'agent', capacity: 5 },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { ...created.body.user, password: 'agent-password-1' };
}

async function newTicket(body) {
  const created = await api(server, 'POST', '/api/v1/tickets', { token: admin, body });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.ticket;
}

const ticketOf = async (id) => (await api(server, 'GET', `/api/v1/tickets/${id}`, { token: admin })).body;
const row = (page, id) => page.locator(`[data-testid="ticket-row"][data-ticket-id="${id}"]`);
const event = (page, text) => page.getByTestId('ticket-history').getByTestId('ticket-event').filter({ hasText: text });

test('an agent creates a ticket from the form, edits its fields, and writes a note and a reply', async () => {
  const colleague = await newAgent('Han Mei 韩梅');
  const { context, page } = await workspace('agent@demo.kefu');
  try {
    await page.getByTestId('tickets-nav').click();
    await page.getByTestId('new-ticket').click();

    // An empty subject: the server's reason, next to the form.
    await page.getByTestId('new-ticket-submit').click();
    await page.getByTestId('new-ticket-error').filter({ hasText: /subject/i }).waitFor();

    const subject = uid('Invoice charged twice 重复扣款');
    await page.getByTestId('new-ticket-subject').fill(subject);
    await page.getByTestId('new-ticket-description').fill('The March invoice\ncharges the plan twice.');
    await page.getByTestId('new-ticket-requester-name').fill('Wang Fang 王芳');
    await page.getByTestId('new-ticket-requester-email').fill(`${uid('wang')}@example.com`);
    await page.getByTestId('new-ticket-priority').selectOption('high');
    await page.getByTestId('new-ticket-tags').fill('billing, vip');
    await page.screenshot({ path: `${ARTIFACTS}/tickets-new.png` });
    const [made] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/tickets') && r.request().method() === 'POST' && r.status() === 201),
      page.getByTestId('new-ticket-submit').click(),
    ]);
    const ticket = (await made.json()).ticket;
    const listed = row(page, ticket.id);
    await listed.getByTestId('ticket-number').filter({ hasText: `#${ticket.number}` }).waitFor();
    await listed.getByText(subject).waitFor();
    await listed.getByText('Wang Fang 王芳').waitFor();
    await listed.getByText('High').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/tickets-list.png` });

    // Search by number finds it.
    await page.getByTestId('ticket-search').fill(`#${ticket.number}`);
    await page.waitForFunction(
      (id) => [...document.querySelectorAll('[data-testid="ticket-row"]')].every((r) => r.getAttribute('data-ticket-id') === id),
      ticket.id,
    );
    await page.getByTestId('ticket-search').fill('');

    await listed.click();
    const detail = page.getByTestId('ticket-detail');
    await detail.waitFor();
    await page.getByTestId('ticket-number').filter({ hasText: `#${ticket.number}` }).waitFor();
    assert.equal(await page.getByTestId('ticket-subject').inputValue(), subject);
    await page.getByTestId('ticket-requester').getByText('Wang Fang 王芳').waitFor();
    await event(page, 'created the ticket').waitFor();

    await page.getByTestId('ticket-status').selectOption('pending');
    await event(page, /changed status from .+ to Pending/).waitFor();
    await page.getByTestId('ticket-priority').selectOption('urgent');
    await event(page, 'changed priority from High to Urgent').waitFor();
    await page.getByTestId('ticket-tag-input').fill('refund');
    await page.getByTestId('ticket-tag-input').press('Enter');
    await page.locator('[data-testid="ticket-tag"][data-tag="refund"]').waitFor();

    // An internal note: Enter makes a new line, Ctrl+Enter adds it.
    await page.getByTestId('ticket-comment-private-toggle').click();
    await page.getByTestId('ticket-comment').fill('Finance confirmed the double charge.');
    await page.getByTestId('ticket-comment').press('Enter');
    await page.getByTestId('ticket-comment').pressSequentially('Refund approved.');
    await page.getByTestId('ticket-comment').press('Control+Enter');
    const note = page.locator('[data-testid="ticket-event"][data-kind="note"]');
    await note.filter({ hasText: 'Refund approved.' }).waitFor();
    assert.match(await note.locator('.bubble').textContent(), /double charge\.\nRefund approved\./);

    // A reply to the requester, with the Send button.
    await page.getByTestId('ticket-comment-reply-toggle').click();
    await page.getByTestId('ticket-comment').fill('We have refunded the second charge. 已为您退款。');
    await page.getByTestId('ticket-comment-send').click();
    await page.locator('[data-testid="ticket-event"][data-kind="reply"]').filter({ hasText: '已为您退款' }).waitFor();

    await page.getByTestId('ticket-assignee').selectOption(colleague.id);
    await event(page, /assignee .*Han Mei 韩梅/).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/tickets-detail.png` });

    const { ticket: saved, events } = await ticketOf(ticket.id);
    assert.equal(saved.status, 'pending');
    assert.equal(saved.priority, 'urgent');
    assert.equal(saved.assignee.id, colleague.id);
    assert.ok(saved.tags.includes('refund') && saved.tags.includes('vip'), JSON.stringify(saved.tags));
    assert.ok(saved.first_response_at, 'the reply is the first response');
    const comments = events.filter((e) => e.kind === 'comment');
    assert.deepEqual(comments.map((e) => e.private), [true, false]);
    assert.deepEqual(
      events.filter((e) => e.kind === 'changed').map((e) => e.field).filter((f) => f !== 'tags'),
      ['status', 'priority', 'assignee'],
    );

    // The subject, edited in place.
    await page.getByTestId('ticket-subject').fill(`${subject} (March)`);
    await page.getByTestId('ticket-subject').press('Enter');
    await event(page, /changed subject/).waitFor();
    assert.equal((await ticketOf(ticket.id)).ticket.subject, `${subject} (March)`);
  } finally {
    await context.close();
  }
});

test('two tickets change status at once from the list', async () => {
  const tag = uid('bulk').toLowerCase().replace(/[^a-z0-9_-]/g, '');
  const one = await newTicket({ subject: 'Bulk one', tags: [tag] });
  const two = await newTicket({ subject: 'Bulk two', tags: [tag] });
  const other = await newTicket({ subject: 'Bulk bystander', tags: [tag] });
  const { context, page } = await workspace('admin@demo.kefu');
  try {
    await page.getByTestId('tickets-nav').click();
    await page.getByTestId('ticket-filter-tag').fill(tag);
    await row(page, other.id).waitFor();
    await row(page, one.id).getByTestId('ticket-select').check();
    await row(page, two.id).getByTestId('ticket-select').check();
    await page.getByTestId('bulk-status').selectOption('solved');
    await page.screenshot({ path: `${ARTIFACTS}/tickets-bulk.png` });
    await page.getByTestId('bulk-apply').click();
    // Solved is not open: both leave the default (unsolved) list; the third stays.
    await row(page, one.id).waitFor({ state: 'detached' });
    await row(page, two.id).waitFor({ state: 'detached' });
    await row(page, other.id).waitFor();
    for (const t of [one, two]) assert.equal((await ticketOf(t.id)).ticket.status, 'solved');
    assert.notEqual((await ticketOf(other.id)).ticket.status, 'solved');

    await page.getByTestId('ticket-filter-status').selectOption('solved');
    await row(page, one.id).getByText('Solved').waitFor();
    await row(page, two.id).waitFor();
  } finally {
    await context.close();
  }
});

test('a chat becomes a ticket from the conversation view, once', async () => {
  const agent = await workspace('agent@demo.kefu', DEMO_PASSWORD, { online: true });
  const context = await browser.newContext({ locale: 'en-US' });
  try {
    const v = await context.newPage();
    await v.goto(`${server.url}/`);
    await v.locator('[data-kefu] >> button').click();
    const chat = v.frameLocator('iframe[title="Kefu chat"]');
    const words = uid('My order never arrived');
    await chat.locator('textarea').fill(`${words}\nIt was due on Monday.`);
    await chat.locator('textarea').press('Enter');

    const { page } = agent;
    await page.getByTestId('assignment-pop').first().click();
    const view = page.getByTestId('conversation');
    await view.getByText('It was due on Monday.', { exact: false }).waitFor();
    const conversationId = await view.getAttribute('data-conversation-id');
    await page.getByTestId('convert-to-ticket').click();
    await page.getByTestId('ticket-detail').waitFor();
    assert.equal(await page.getByTestId('ticket-subject').inputValue(), words, 'the first line of the first message');
    const ticketId = await page.getByTestId('ticket-detail').getAttribute('data-ticket-id');
    const { ticket } = await ticketOf(ticketId);
    assert.equal(ticket.conversation_id, conversationId);
    assert.ok(ticket.requester, 'the chat contact is the requester');
    await page.getByTestId('ticket-requester').getByText(ticket.requester.name).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/tickets-from-chat.png` });

    // Back to the chat through the link; a second conversion names the ticket it already is.
    await page.getByTestId('ticket-conversation').click();
    await page.locator(`[data-testid="conversation"][data-conversation-id="${conversationId}"]`).waitFor();
    await page.getByTestId('convert-to-ticket').click();
    await page.getByTestId('action-error').filter({ hasText: `#${ticket.number}` }).waitFor();
    await page.getByTestId('close-button').click();
    await page.getByTestId('reopen-button').waitFor();
  } finally {
    await setStatus(agent.page, 'offline').catch(() => {});
    await agent.context.close();
    await context.close();
  }
});

test('an admin sets an SLA policy and business hours; a new urgent ticket shows its due time', async () => {
  const { context, page } = await workspace('admin@demo.kefu');
  try {
    await page.getByTestId('nav-admin').click();
    await page.getByTestId('admin-tab-sla').click();
    await page.getByTestId('sla-urgent-first_response').fill('30');
    await page.getByTestId('sla-urgent-first_response-unit').selectOption('min');
    await page.getByTestId('sla-urgent-resolution').fill('8');
    await page.getByTestId('sla-urgent-resolution-unit').selectOption('h');
    const [saved] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/sla_policies') && r.request().method() === 'PUT'),
      page.getByTestId('sla-save').click(),
    ]);
    assert.equal(saved.status(), 200);
    await page.screenshot({ path: `${ARTIFACTS}/tickets-admin-sla.png` });
    const { policies } = (await api(server, 'GET', '/api/v1/sla_policies', { token: admin })).body;
    const urgent = policies.find((p) => p.priority === 'urgent');
    assert.equal(urgent.first_response_mins, 30);
    assert.equal(urgent.resolution_mins, 480);
    assert.equal(urgent.next_response_mins ?? null, null);

    // A nonsense duration is refused by the form before it reaches the server.
    await page.getByTestId('sla-high-first_response').fill('-5');
    await page.getByTestId('sla-save').click();
    await page.getByTestId('sla-error').waitFor();
    await page.getByTestId('sla-high-first_response').fill('');

    // A team's business hours, with the editor the widget's working hours use.
    const team = (await api(server, 'POST', '/api/v1/teams', { token: admin, body: { name: uid('Support 支持') } })).body.team;
    await page.getByTestId('admin-tab-teams').click();
    const card = page.locator(`[data-testid="team-card"][data-team-id="${team.id}"]`);
    await card.getByTestId('team-hours-toggle').click();
    await card.getByTestId('team-hours-enabled').check();
    await card.getByTestId('team-hours-timezone').fill('Europe/Berlin');
    const [patched] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/teams/${team.id}`) && r.request().method() === 'PATCH'),
      card.getByTestId('team-hours-save').click(),
    ]);
    assert.equal(patched.status(), 200, await patched.text());
    await page.screenshot({ path: `${ARTIFACTS}/tickets-team-hours.png` });
    const hours = (await api(server, 'GET', `/api/v1/teams/${team.id}`, { token: admin })).body.team.business_hours;
    assert.equal(hours.enabled, true);
    assert.equal(hours.timezone, 'Europe/Berlin');
    assert.deepEqual(hours.mon, [{ from: '09:00', to: '18:00' }]);

    // A new urgent ticket without a team counts around the clock: first response due in 30 minutes.
    await page.getByTestId('tickets-nav').click();
    await page.getByTestId('new-ticket').click();
    await page.getByTestId('new-ticket-subject').fill(uid('Checkout is down'));
    await page.getByTestId('new-ticket-priority').selectOption('urgent');
    const [made] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/tickets') && r.request().method() === 'POST'),
      page.getByTestId('new-ticket-submit').click(),
    ]);
    const ticket = (await made.json()).ticket;
    assert.ok(ticket.sla.first_response_due, JSON.stringify(ticket.sla));
    const due = row(page, ticket.id).getByTestId('ticket-sla-due');
    await due.filter({ hasText: /in (29|30) min/ }).waitFor();
    assert.equal(await due.getAttribute('data-state'), 'due_soon');
    await page.screenshot({ path: `${ARTIFACTS}/tickets-sla-list.png` });
    await row(page, ticket.id).click();
    await page.locator('[data-testid="ticket-sla-first_response"][data-state="due_soon"]').waitFor();
    await page.locator('[data-testid="ticket-sla-resolution"][data-state="ok"]').filter({ hasText: /in 7 h|in 8 h/ }).waitFor();
  } finally {
    await api(server, 'PUT', '/api/v1/sla_policies', { token: admin, body: { policies: [] } });
    await context.close();
  }
});

test('the list follows pushes: a change made elsewhere shows without reloading', async () => {
  const ticket = await newTicket({ subject: uid('Pushed along'), priority: 'low' });
  const { context, page } = await workspace('admin@demo.kefu');
  try {
    await page.getByTestId('tickets-nav').click();
    await row(page, ticket.id).getByText('Low').waitFor();
    const changed = await api(server, 'PATCH', `/api/v1/tickets/${ticket.id}`, { token: admin, body: { priority: 'urgent', status: 'open' } });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    await row(page, ticket.id).getByText('Urgent').waitFor();

    // And the open ticket's history gains the change another person made.
    await row(page, ticket.id).click();
    await page.getByTestId('ticket-detail').waitFor();
    await api(server, 'POST', `/api/v1/tickets/${ticket.id}/comments`, { token: admin, body: { content: 'Seen from afar', private: true } });
    await page.locator('[data-testid="ticket-event"][data-kind="note"]').filter({ hasText: 'Seen from afar' }).waitFor();
    await api(server, 'PATCH', `/api/v1/tickets/${ticket.id}`, { token: admin, body: { status: 'solved' } });
    await page.locator('[data-testid="ticket-detail"][data-status="solved"]').waitFor();
    await event(page, /to Solved/).waitFor();
  } finally {
    await context.close();
  }
});

test('a missed SLA target pops up for supervisors and turns the ticket red in the list', async () => {
  await api(server, 'PUT', '/api/v1/sla_policies', {
    token: admin, body: { policies: [{ priority: 'urgent', first_response_mins: 1, next_response_mins: null, resolution_mins: null }] },
  });
  const { context, page } = await workspace('admin@demo.kefu');
  try {
    await page.getByTestId('tickets-nav').click();
    const ticket = await newTicket({ subject: uid('Nobody answered'), priority: 'urgent' });
    await row(page, ticket.id).getByTestId('ticket-sla-due').waitFor();
    // One working minute, around the clock (no team): the server's check notices it soon after.
    const pop = page.locator(`[data-testid="sla-breach-pop"][data-ticket-id="${ticket.id}"]`);
    await pop.waitFor({ timeout: 150_000 });
    await row(page, ticket.id).locator('[data-testid="ticket-sla-due"][data-state="breached"]').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/tickets-sla-breach.png` });
    await pop.locator('.pop-body').click();
    await page.locator(`[data-testid="ticket-detail"][data-ticket-id="${ticket.id}"]`).waitFor();
    await page.locator('[data-testid="ticket-event"][data-kind="sla_breached"]').filter({ hasText: 'First response' }).waitFor();
    await page.locator('[data-testid="ticket-sla-first_response"][data-state="breached"]').waitFor();
  } finally {
    await api(server, 'PUT', '/api/v1/sla_policies', { token: admin, body: { policies: [] } });
    await context.close();
  }
});

test('the tickets list speaks Chinese to a zh-CN browser', async () => {
  await newTicket({ subject: '无法登录账户', priority: 'urgent' });
  const { context, page } = await workspace('agent@demo.kefu', DEMO_PASSWORD, { locale: 'zh-CN' });
  try {
    await page.getByTestId('tickets-nav').filter({ hasText: '工单' }).click();
    await page.getByTestId('new-ticket').filter({ hasText: '新建工单' }).waitFor();
    assert.equal(await page.getByTestId('ticket-filter-status').locator('option:checked').textContent(), '未解决');
    assert.equal(await page.getByTestId('ticket-search').getAttribute('placeholder'), '搜索标题或 #编号');
    const listed = page.getByTestId('ticket-row').filter({ hasText: '无法登录账户' }).first();
    await listed.getByText('紧急').waitFor();
    await listed.getByText(/新建|处理中/).waitFor();
    await page.getByRole('columnheader', { name: '优先级' }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/tickets-zh-CN.png` });
  } finally {
    await context.close();
  }
});

test('a customer opens a ticket with the public form; a robot that fills the hidden field is turned away', async () => {
  const website = (await api(server, 'GET', '/api/v1/inboxes', { token: admin })).body.inboxes.find((i) => i.name === 'Website');
  // The admin turns the form on in the inbox's settings and finds its address there.
  const desk = await workspace('admin@demo.kefu');
  await desk.page.getByTestId('nav-admin').click();
  await desk.page.getByTestId('admin-tab-inboxes').click();
  await desk.page.getByTestId('ticket-form-enabled').check();
  await desk.page.getByTestId('inbox-save').click();
  const link = desk.page.getByTestId('ticket-form-link');
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), `/forms/${website.widget_token}`);
  await desk.context.close();
  try {
    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${server.url}/forms/${website.widget_token}`);
    await page.getByRole('heading', { name: '提交工单' }).waitFor();
    const trap = await page.locator('#website').boundingBox();
    assert.ok(trap.x + trap.width <= 0, 'the hidden field is off the page, where people never see it');
    assert.equal(await page.locator('#website').evaluate((el) => el.closest('[aria-hidden="true"]') !== null), true);
    await page.getByLabel('姓名').fill('林晓 <b>Lin</b>');
    await page.getByLabel('邮箱').fill('lin.xiao@example.cn');
    await page.getByLabel('主题').fill('发票开错了');
    await page.getByLabel('问题描述').fill('抬头应为某某公司');
    await page.getByRole('button', { name: '提交' }).click();
    const thanks = await page.getByRole('status').filter({ hasText: '工单号为' }).textContent();
    const number = Number(thanks.match(/#(\d+)/)[1]);
    await page.screenshot({ path: `${ARTIFACTS}/tickets-public-form.png` });
    const ticket = (await api(server, 'GET', `/api/v1/tickets?q=%23${number}`, { token: admin })).body.tickets[0];
    assert.equal(ticket.requester.name, '林晓 <b>Lin</b>', 'kept as text');
    assert.equal(ticket.subject, '发票开错了');

    // A robot fills every field it finds, the hidden one too.
    const robot = await context.newPage();
    await robot.goto(`${server.url}/forms/${website.widget_token}?lang=en`);
    await robot.getByLabel('Your name').fill('Bot');
    await robot.getByLabel('Email').fill('bot@example.com');
    await robot.getByLabel('Subject').fill('Cheap watches');
    await robot.getByLabel('How can we help?').fill('Buy now');
    await robot.locator('#website').evaluate((el) => { el.value = 'http://spam.example'; });
    await robot.getByRole('button', { name: 'Send' }).click();
    await robot.locator('.error', { hasText: 'robot' }).waitFor();
    assert.equal((await api(server, 'GET', '/api/v1/tickets?q=watches', { token: admin })).body.tickets.length, 0);
    await context.close();
  } finally {
    await api(server, 'PATCH', `/api/v1/inboxes/${website.id}`, { token: admin, body: { settings: {} } });
  }
});
