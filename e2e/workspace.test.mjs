// The agents' workspace (/app/) in a real browser, against the real binary in demo mode: a visitor on the demo
// page and agents in their own browser contexts, as a support team would use Kefu. Screenshots of the main
// screens go to e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, DEMO_PASSWORD, launch, signIn, setStatus } from './browser.mjs';
import { startServer, login, uid, api, ADMIN } from '../tests/socketio/harness.mjs';


let server;
let browser;
let admin;
let website;

before(async () => {
  server = await startServer({ args: ['--demo'] });
  browser = await launch();
  admin = await login(server, ADMIN.email, ADMIN.password);
  website = (await api(server, 'GET', '/api/v1/inboxes', { token: admin })).body.inboxes.find((i) => i.name === 'Website');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Someone signed in to the workspace in a browser context of their own. */
const workspace = (email, password = DEMO_PASSWORD, { locale = 'en-US', online = true } = {}) =>
  signIn(browser, server.url, email, password, { locale, online, height: 800 });

/** A visitor on the demo page with the chat open. */
async function visitor(locale = 'en-US') {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.locator('[data-kefu] >> button').click();
  return { context, page, chat: page.frameLocator('iframe[title="Kefu chat"]') };
}

async function say(chat, text) {
  await chat.locator('textarea').fill(text);
  await chat.locator('textarea').press('Enter');
}

async function write(page, text) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}

async function newAgent(name, { role = 'agent' } = {}) {
  const email = `${uid('agent')}@kefu.test`;
  const created = await api(server, 'POST', '/api/v1/users', {
    token: admin, body: { email, name, password: 'agent-password-1', role, capacity: 5 },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { ...created.body.user, password: 'agent-password-1' };
}

const presence = async (email) =>
  (await api(server, 'GET', '/api/v1/users', { token: admin })).body.users.find((u) => u.email === email).presence;

test('an agent answers a visitor from the workspace: pop, reply, canned reply, private note, transfer, close, rating', async () => {
  const pre_chat = { enabled: true, fields: [{ key: 'name', required: true }, { key: 'email', required: false }] };
  await api(server, 'PATCH', `/api/v1/inboxes/${website.id}`, { token: admin, body: { settings: { widget: { pre_chat } } } });
  const canned = await api(server, 'POST', '/api/v1/canned_replies', {
    token: admin, body: { shortcut: 'wait', content: 'Thank you for waiting — 感谢您的耐心等待', shared: true },
  });
  assert.equal(canned.status, 201, JSON.stringify(canned.body));
  const second = await newAgent('Second Agent 第二位');
  const first = await workspace('agent@demo.kefu');
  const other = await workspace(second.email, second.password, { online: false });
  try {
    const v = await visitor();
    // The demo page points a newcomer to the workspace.
    assert.equal(await v.page.getByRole('link', { name: /Open the workspace/ }).getAttribute('href'), '/app/');
    await v.chat.getByLabel('Name *').fill('Wang Fang 王芳');
    await v.chat.getByLabel('Email').fill('wang.fang@example.com');
    await v.chat.getByRole('button', { name: 'Start chat' }).click();
    await say(v.chat, 'My parcel is late');

    // The pop: a new assignment, opened with one click.
    const pop = first.page.getByTestId('assignment-pop');
    await pop.filter({ hasText: 'Wang Fang 王芳' }).waitFor();
    await first.page.screenshot({ path: `${ARTIFACTS}/workspace-pop.png` });
    await pop.filter({ hasText: 'Wang Fang 王芳' }).click();
    const view = first.page.getByTestId('conversation');
    await view.getByText('My parcel is late').waitFor();
    const panel = first.page.getByTestId('contact-panel');
    await panel.getByText('Wang Fang 王芳').first().waitFor();
    await panel.getByText('wang.fang@example.com').waitFor();
    assert.equal(await panel.getByTestId('contact-page').getAttribute('href'), `${server.url}/`);
    assert.match(await panel.getByTestId('contact-browser').textContent(), /Chrome/);

    // The visitor types; the agent sees it.
    await v.chat.locator('textarea').pressSequentially('one more');
    await first.page.getByTestId('visitor-typing').waitFor();
    await v.chat.locator('textarea').fill('');

    // A reply with Enter; Shift+Enter makes a new line instead.
    await first.page.getByTestId('composer').fill('Let me check that for you.');
    await first.page.getByTestId('composer').press('Shift+Enter');
    await first.page.getByTestId('composer').pressSequentially('One moment please.');
    await first.page.getByTestId('composer').press('Enter');
    await v.chat.getByText('One moment please.').waitFor();
    assert.match(await v.chat.locator('.msg .body', { hasText: 'One moment please.' }).textContent(), /for you\.\nOne moment/);

    // A canned reply: "/" and a few letters, then Enter picks it, Enter sends it.
    await first.page.getByTestId('composer').fill('');
    await first.page.getByTestId('composer').pressSequentially('/wai');
    await first.page.getByTestId('canned-picker').getByText('Thank you for waiting').waitFor();
    await first.page.screenshot({ path: `${ARTIFACTS}/workspace-canned.png` });
    await first.page.getByTestId('composer').press('Enter');
    assert.equal(await first.page.getByTestId('composer').inputValue(), 'Thank you for waiting — 感谢您的耐心等待');
    await first.page.getByTestId('composer').press('Enter');
    await v.chat.getByText('Thank you for waiting — 感谢您的耐心等待').waitFor();

    // A private note: shown to agents as a note, never to the visitor.
    await first.page.getByTestId('note-toggle').click();
    await write(first.page, 'Customer is upset: offer a refund');
    await first.page.getByTestId('private-note').filter({ hasText: 'Customer is upset' }).waitFor();
    await first.page.getByTestId('reply-toggle').click();
    await write(first.page, 'I have found your parcel.');
    await v.chat.getByText('I have found your parcel.').waitFor();
    assert.equal(await v.chat.getByText('Customer is upset').count(), 0, 'the note never reaches the visitor');
    await first.page.screenshot({ path: `${ARTIFACTS}/workspace-conversation.png` });

    // Transfer to the second agent, who gets the pop.
    await setStatus(other.page, 'online');
    await first.page.getByTestId('transfer-button').click();
    await first.page.getByTestId('transfer-dialog').waitFor();
    await first.page.screenshot({ path: `${ARTIFACTS}/workspace-transfer.png` });
    await first.page.locator(`[data-testid="transfer-agent"][data-user-id="${second.id}"]`).click();
    await first.page.getByTestId('transfer-dialog').waitFor({ state: 'hidden' });
    await other.page.getByTestId('assignment-pop').filter({ hasText: 'Wang Fang 王芳' }).click();
    const otherView = other.page.getByTestId('conversation');
    await otherView.getByText('I have found your parcel.').waitFor();
    await otherView.getByTestId('private-note').filter({ hasText: 'Customer is upset' }).waitFor();
    await v.chat.getByText('Second Agent 第二位').first().waitFor();

    // The second agent closes; the visitor rates; the rating shows in the workspace.
    await other.page.getByTestId('close-button').click();
    await other.page.getByTestId('reopen-button').waitFor();
    await other.page.getByTestId('composer-blocked').waitFor();
    await v.chat.getByText('How did we do?').waitFor();
    await v.chat.getByRole('button', { name: '4 stars' }).click();
    await v.chat.getByRole('button', { name: 'Send rating' }).click();
    await v.chat.getByText('Thank you for your feedback!').waitFor();
    await other.page.getByTestId('conversation').getByText('★★★★☆').first().waitFor();
    await other.page.getByTestId('list-tab-closed').click();
    await other.page.getByTestId('conversation-item').filter({ hasText: 'Wang Fang 王芳' }).waitFor();
    await other.page.screenshot({ path: `${ARTIFACTS}/workspace-closed.png` });
    await v.context.close();
  } finally {
    await api(server, 'PATCH', `/api/v1/inboxes/${website.id}`, { token: admin, body: { settings: {} } });
    await setStatus(first.page, 'offline');
    await setStatus(other.page, 'offline');
    await first.context.close();
    await other.context.close();
  }
});

test('an admin creates an agent, who then signs in to the workspace', async () => {
  const { context, page } = await workspace('admin@demo.kefu', DEMO_PASSWORD, { online: false });
  await page.getByTestId('nav-admin').click();
  const email = `${uid('new')}@kefu.test`;
  await page.getByTestId('new-agent-email').fill(email);
  await page.getByTestId('new-agent-name').fill('Zhao Lei 赵磊');
  await page.getByTestId('new-agent-password').fill('a-good-password');
  await page.getByTestId('new-agent-role').selectOption('supervisor');
  await page.getByTestId('new-agent-capacity').fill('3');
  await page.getByTestId('new-agent-submit').click();
  await page.getByTestId('agent-row').filter({ hasText: email }).waitFor();
  await page.screenshot({ path: `${ARTIFACTS}/workspace-admin-agents.png` });
  const created = (await api(server, 'GET', '/api/v1/users', { token: admin })).body.users.find((u) => u.email === email);
  assert.equal(created.role, 'supervisor');
  assert.equal(created.capacity, 3);

  // A password that is too short gets the server's reason, next to the form.
  await page.getByTestId('new-agent-email').fill(`${uid('short')}@kefu.test`);
  await page.getByTestId('new-agent-name').fill('Short');
  await page.getByTestId('new-agent-password').fill('short');
  await page.getByTestId('new-agent-submit').click();
  await page.getByTestId('new-agent-error').filter({ hasText: /password/i }).waitFor();

  const newcomer = await workspace(email, 'a-good-password');
  await newcomer.page.getByText('Zhao Lei 赵磊').first().waitFor();
  await newcomer.page.getByTestId('list-tab-all').waitFor();
  assert.equal(await presence(email), 'online');
  await setStatus(newcomer.page, 'offline');
  await newcomer.context.close();
  await context.close();
});

test('the workspace speaks Chinese to a zh-CN browser, and remembers a user\'s own choice', async () => {
  const agent = await newAgent('Chen Jing 陈静');
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/app/`);
  await page.getByTestId('login-submit').filter({ hasText: '登录' }).waitFor();
  await page.screenshot({ path: `${ARTIFACTS}/workspace-login-zh-CN.png` });
  await page.getByTestId('login-email').fill(agent.email);
  await page.getByTestId('login-password').fill('wrong-password');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').waitFor();
  await page.getByTestId('login-password').fill(agent.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('status-online').filter({ hasText: '在线' }).waitFor();
  await page.screenshot({ path: `${ARTIFACTS}/workspace-zh-CN.png` });

  // English, chosen by the user: kept on the server, so another browser (here, a zh-CN one) shows it too.
  await page.getByTestId('lang-switch').selectOption('en');
  await page.getByTestId('status-online').filter({ hasText: 'Online' }).waitFor();
  await context.close();
  const me = await api(server, 'GET', '/api/v1/auth/me', { token: await login(server, agent.email, agent.password) });
  assert.equal(me.body.user.locale, 'en');
  const again = await workspace(agent.email, agent.password, { locale: 'zh-CN', online: false });
  await again.page.getByTestId('status-online').filter({ hasText: 'Online' }).waitFor();
  await again.context.close();
});

test('script and HTML from a visitor show as text in the workspace', async () => {
  const first = await workspace('agent@demo.kefu');
  try {
    const v = await visitor();
    const attack = '<img src=x onerror="window.pwned=1"><b>bold</b>';
    await say(v.chat, attack);
    // Opened from the list, where the message's first line shows as text too.
    await first.page.getByTestId('conversation-item').filter({ hasText: 'bold</b>' }).click();
    await first.page.getByTestId('conversation').getByText(attack).waitFor();
    assert.equal(await first.page.locator('[data-testid="conversation"] img, [data-testid="conversation"] b').count(), 0);
    assert.equal(await first.page.evaluate(() => window.pwned), undefined);
    await first.page.getByTestId('close-button').click();
    await first.page.getByTestId('reopen-button').waitFor();
    await v.context.close();
  } finally {
    await setStatus(first.page, 'offline');
    await first.context.close();
  }
});

test('inbox settings: a live preview, the snippet, and the widget follows what was saved', async () => {
  const { context, page } = await workspace('admin@demo.kefu', DEMO_PASSWORD, { online: false });
  try {
    await page.getByTestId('nav-admin').click();
    await page.getByTestId('admin-tab-inboxes').click();
    await page.getByTestId('inbox-form').waitFor();
    const snippet = await page.getByTestId('widget-snippet').textContent();
    assert.ok(snippet.includes(`src="${server.url}/widget.js"`), snippet);
    assert.ok(snippet.includes(`data-token="${website.widget_token}"`), snippet);
    assert.match(await page.getByTestId('identity-secret').textContent(), /•|\*/, 'the secret is masked');

    await page.getByTestId('widget-color').fill('#00a870');
    await page.getByTestId('widget-position').selectOption('left');
    const preview = page.getByTestId('widget-preview');
    const launcher = preview.locator('.pv-launcher');
    await page.waitForFunction((el) => getComputedStyle(el).backgroundColor === 'rgb(0, 168, 112)', await launcher.elementHandle());
    assert.match(await preview.locator('.preview-stage').getAttribute('class'), /left/, 'the preview follows the form before saving');
    await page.screenshot({ path: `${ARTIFACTS}/workspace-admin-inbox.png` });
    await page.getByTestId('inbox-save').click();
    await page.waitForFunction(async (token) => {
      const r = await fetch(`/api/v1/widget/config?token=${token}`, { cache: 'no-store' });
      const c = await r.json();
      return c.color === '#00a870' && c.position === 'left';
    }, website.widget_token);
  } finally {
    await api(server, 'PATCH', `/api/v1/inboxes/${website.id}`, { token: admin, body: { settings: {} } });
    await context.close();
  }
});

test('admin: a team with members, a shared canned reply, and a new identity secret', async () => {
  const member = await newAgent('Sun Li 孙丽');
  const { context, page } = await workspace('admin@demo.kefu', DEMO_PASSWORD, { online: false });
  try {
    await page.getByTestId('nav-admin').click();
    await page.getByTestId('admin-tab-teams').click();
    const teamName = uid('Billing 账务');
    await page.getByTestId('new-team-name').fill(teamName);
    const [made] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/teams') && r.request().method() === 'POST'),
      page.getByTestId('new-team-submit').click(),
    ]);
    const teamId = (await made.json()).team.id;
    const card = page.locator(`[data-testid="team-card"][data-team-id="${teamId}"]`);
    await card.getByTestId('team-add-member').selectOption(member.id);
    await card.locator(`[data-testid="team-member"][data-user-id="${member.id}"]`).waitFor();
    const team = (await api(server, 'GET', `/api/v1/teams/${teamId}`, { token: admin })).body.team;
    assert.equal(team.name, teamName);
    assert.deepEqual(team.members, [member.id]);

    await page.getByTestId('admin-tab-canned').click();
    const shortcut = uid('refund').toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 30);
    await page.getByTestId('new-canned-shortcut').fill(shortcut);
    await page.getByTestId('new-canned-content').fill('Refunds take 3-5 working days. 退款需要 3-5 个工作日。');
    await page.getByTestId('new-canned-shared').check();
    const [saved] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/canned_replies') && r.request().method() === 'POST'),
      page.getByTestId('new-canned-submit').click(),
    ]);
    assert.equal(saved.status(), 201);
    await page.locator(`[data-testid="canned-row"][data-canned-id="${(await saved.json()).canned_reply.id}"]`).waitFor();
    const replies = (await api(server, 'GET', `/api/v1/canned_replies?q=${shortcut}`, { token: admin })).body.canned_replies;
    assert.equal(replies.length, 1);
    assert.equal(replies[0].shared, true);
    await page.screenshot({ path: `${ARTIFACTS}/workspace-admin-canned.png` });

    await page.getByTestId('admin-tab-inboxes').click();
    const before = (await api(server, 'GET', `/api/v1/inboxes/${website.id}`, { token: admin })).body.inbox.identity_secret;
    page.once('dialog', (d) => d.accept());
    const [rotated] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/inboxes/${website.id}/identity_secret`)),
      page.getByTestId('identity-generate').click(),
    ]);
    assert.equal(rotated.status(), 200);
    const after = (await api(server, 'GET', `/api/v1/inboxes/${website.id}`, { token: admin })).body.inbox.identity_secret;
    assert.notEqual(after, before, 'a new secret');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByTestId('identity-secret').filter({ hasText: after }).waitFor();
  } finally {
    await context.close();
  }
});

test('a new assignment chimes and notifies the desktop; a message in another conversation shows as unread', async () => {
  const agent = await newAgent('Zhou Min 周敏');
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  // Record what the page asks of the browser's audio and notification APIs; the page itself is the real app.
  await context.addInitScript(() => {
    window.__notified = [];
    window.__chimes = 0;
    window.Notification = class {
      static permission = 'granted';
      static requestPermission() { return Promise.resolve('granted'); }
      constructor(title, options) { window.__notified.push({ title, body: options?.body }); }
      close() {}
    };
    const Real = window.AudioContext;
    window.AudioContext = class extends Real { constructor() { super(); window.__chimes += 1; } };
    document.hasFocus = () => false;
  });
  const page = await context.newPage();
  await page.goto(`${server.url}/app/`);
  await page.getByTestId('login-email').fill(agent.email);
  await page.getByTestId('login-password').fill(agent.password);
  await page.getByTestId('login-submit').click();
  await setStatus(page, 'online');
  const visitors = [];
  try {
    for (const text of ['first visitor here', 'second visitor here']) {
      const v = await visitor();
      await say(v.chat, text);
      visitors.push(v);
      await page.getByTestId('conversation-item').filter({ hasText: text }).waitFor();
    }
    await page.waitForFunction(() => window.__notified.length === 2 && window.__chimes >= 2);
    const notified = await page.evaluate(() => window.__notified);
    assert.ok(notified.every((n) => n.title === 'Kefu' && /Visitor/.test(n.body)), JSON.stringify(notified));

    // Reading the first conversation; the second one's new message counts as unread until opened.
    await page.getByTestId('conversation-item').filter({ hasText: 'first visitor here' }).click();
    await page.getByTestId('conversation').getByText('first visitor here').waitFor();
    await say(visitors[1].chat, 'are you there?');
    const second = page.getByTestId('conversation-item').filter({ hasText: 'are you there?' });
    await second.getByTestId('unread-badge').filter({ hasText: '2' }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/workspace-unread.png` });
    await second.click();
    await page.getByTestId('conversation').getByText('are you there?').waitFor();
    await second.getByTestId('unread-badge').waitFor({ state: 'detached' });
  } finally {
    await setStatus(page, 'offline');
    for (const v of visitors) await v.context.close();
    await context.close();
  }
});

test('the workspace rides out a server restart and shows every message once, in order', async () => {
  const agent = await newAgent('Wu Gang 吴刚');
  const { context, page } = await workspace(agent.email, agent.password);
  try {
    const v = await visitor();
    await say(v.chat, 'before the restart');
    await page.getByTestId('conversation-item').filter({ hasText: 'before the restart' }).click();
    await page.getByTestId('conversation').getByText('before the restart').waitFor();
    await server.kill9();
    await page.getByTestId('reconnecting').waitFor();
    await server.restart();
    await page.getByTestId('reconnecting').waitFor({ state: 'hidden', timeout: 30000 });
    // The agent went offline with the server; the conversation stays theirs within the grace.
    await setStatus(page, 'online');
    await say(v.chat, 'after the restart');
    await page.getByTestId('conversation').getByText('after the restart').waitFor();
    await write(page, 'still here');
    await v.chat.getByText('still here').waitFor();
    const bodies = await page.getByTestId('conversation').locator('.msg[data-seq] .bubble').allTextContents();
    const shown = ['before the restart', 'after the restart', 'still here'].map((t) => bodies.filter((b) => b.includes(t)).length);
    assert.deepEqual(shown, [1, 1, 1], JSON.stringify(bodies));
    await v.context.close();
  } finally {
    await setStatus(page, 'offline').catch(() => {});
    await context.close();
  }
});
