// SMS on Aliyun, Weibo, merged contacts and the WeChat welcome message in the browser, against the real binary in
// demo mode: an admin creates an Aliyun SMS inbox against the Socket.IO suite's stand-in
// (tests/socketio/aliyun_standin.mjs) and sees both push URLs with the token; a text Aliyun pushes arrives live for
// the demo agent with the SMS badge, and the reply reaches Aliyun and shows Delivered once Aliyun reports it. An
// admin creates a Weibo inbox (tests/socketio/weibo_standin.mjs); a private message arrives with the Weibo badge and
// the reply box says until when Weibo takes replies.
// A web visitor and an SMS sender of the same name are merged from the contact panel, which then lists both
// channels' conversations, and unlinked again. The WeChat welcome message survives a save of the form (in Chinese).
// Screenshots go to e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, DEMO_PASSWORD, launch, signIn, setStatus } from './browser.mjs';
import { startServer, login, uid, api, ADMIN, connectVisitor, request } from '../tests/socketio/harness.mjs';
import { startAliyun } from '../tests/socketio/aliyun_standin.mjs';
import { startWeibo } from '../tests/socketio/weibo_standin.mjs';

let server;
let browser;
let aliyun;
let weibo;
let admin;
let team;
/** The Aliyun inbox the first test makes, and its incoming-texts URL. */
let smsInbox;
let textsUrl;

before(async () => {
  aliyun = await startAliyun();
  weibo = await startWeibo();
  server = await startServer({ args: ['--demo'] });
  browser = await launch();
  admin = await login(server, ADMIN.email, ADMIN.password);
  // The demo has no teams: one with the demo agent, for the forms' team boxes to route the channels to.
  team = (await api(server, 'POST', '/api/v1/teams', { token: admin, body: { name: 'More 更多' } })).body.team;
  const agent = (await api(server, 'GET', '/api/v1/users', { token: admin })).body.users.find((u) => u.email === 'agent@demo.kefu');
  await api(server, 'PUT', `/api/v1/teams/${team.id}/members/${agent.id}`, { token: admin });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await aliyun?.stop();
  await weibo?.stop();
});

const workspace = (email, { locale = 'en-US', online = false } = {}) =>
  signIn(browser, server.url, email, DEMO_PASSWORD, { locale, online, height: 900 });

async function adminScreen(tab, { locale = 'en-US' } = {}) {
  const session = await workspace('admin@demo.kefu', { locale });
  await session.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await session.page.getByTestId('nav-admin').click();
  await session.page.getByTestId(`admin-tab-${tab}`).click();
  return session;
}

async function write(page, text) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}

/** Creates the inbox from "New inbox" and returns what the server answered. */
async function createFrom(page) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/inboxes') && r.request().method() === 'POST'),
    page.getByTestId('channel-save').click(),
  ]);
  assert.equal(res.status(), 201, await res.text());
  return (await res.json()).inbox;
}

test('an admin creates an Aliyun SMS inbox and sees both push URLs; a text arrives live and the reply is delivered', async () => {
  const { context, page } = await adminScreen('inboxes');
  let reportUrl;
  try {
    await page.getByTestId('new-inbox').click();
    await page.getByTestId('new-inbox-kind').selectOption('aliyun_sms');
    assert.equal(await page.getByTestId('new-inbox-kind').locator('option:checked').textContent(), 'SMS (Aliyun)');
    await page.getByTestId('aliyun_sms-name').fill('Aliyun 短信');
    await page.getByTestId('channel-form').getByLabel('More 更多').check();
    // The form's own check: a new inbox needs its credentials, signature and template.
    await page.getByTestId('channel-save').click();
    assert.match(await page.getByTestId('channel-error').textContent(), /AccessKey ID, AccessKey Secret, Signature \(签名\), Template code/);
    assert.equal(await page.getByTestId('aliyun_sms-access_key_secret').getAttribute('type'), 'password');
    await page.getByTestId('aliyun_sms-access_key_id').fill(aliyun.accessKeyId);
    await page.getByTestId('aliyun_sms-access_key_secret').fill(aliyun.accessKeySecret);
    await page.getByTestId('aliyun_sms-sign_name').fill('客服中心');
    await page.getByTestId('aliyun_sms-template_code').fill('SMS_465000001');
    assert.equal(await page.getByTestId('aliyun_sms-template_param').inputValue(), 'content');
    assert.equal(await page.getByTestId('aliyun_sms-region_id').inputValue(), 'cn-hangzhou');
    assert.match(await page.getByTestId('aliyun-template-hint').textContent(), /agent's words in \$\{content\}/);
    assert.equal(await page.getByTestId('aliyun_sms-api_base_url').isVisible(), false, 'tucked away under Advanced');
    await page.getByTestId('aliyun_sms-advanced').click();
    assert.equal(await page.getByTestId('aliyun_sms-api_base_url').inputValue(), 'https://dysmsapi.aliyuncs.com');
    await page.getByTestId('aliyun_sms-api_base_url').fill(aliyun.url);
    await page.screenshot({ path: `${ARTIFACTS}/aliyun-new-inbox.png`, fullPage: true });
    smsInbox = await createFrom(page);
    assert.equal(smsInbox.kind, 'aliyun_sms');
    assert.deepEqual(smsInbox.teams, [team.id]);
    assert.equal(JSON.stringify(smsInbox).includes(aliyun.accessKeySecret), false, 'the secret is never returned');
    assert.deepEqual(smsInbox.settings, {
      access_key_id: aliyun.accessKeyId, sign_name: '客服中心', template_code: 'SMS_465000001', template_param: 'content', region_id: 'cn-hangzhou', api_base_url: aliyun.url,
    });

    // Both URLs to paste into Aliyun's HTTP batch push, with the token.
    const base = `${server.url}${smsInbox.webhook_path}`;
    textsUrl = `${base}?token=${smsInbox.identity_secret}`;
    reportUrl = `${base}/report?token=${smsInbox.identity_secret}`;
    await page.getByTestId('aliyun-texts-url').waitFor();
    assert.equal(await page.getByTestId('aliyun-texts-url').inputValue(), textsUrl);
    assert.equal(await page.getByTestId('aliyun-report-url').inputValue(), reportUrl);
    assert.match(await page.getByTestId('webhook-hint').textContent(), /HTTP批量推送/);
    await page.getByTestId('aliyun-report-url-copy').click();
    await page.getByTestId('aliyun-report-url-copy').filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), reportUrl);
    // An edit: the secret's box is empty, "Unchanged".
    assert.equal(await page.getByTestId('aliyun_sms-access_key_secret').inputValue(), '');
    assert.equal(await page.getByTestId('aliyun_sms-access_key_secret').getAttribute('placeholder'), 'Unchanged');
    await page.locator('[data-testid="channel-state"][data-status="waiting"]').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/aliyun-inbox.png`, fullPage: true });
  } finally {
    await context.close();
  }
  aliyun.reportTo(reportUrl);

  const agent = await workspace('agent@demo.kefu', { online: true });
  try {
    const { page } = agent;
    const pushed = await aliyun.push(textsUrl, [{ phone: '13800138000', content: '快递什么时候到？' }]);
    assert.equal(pushed.status, 200, pushed.text);
    await page.getByTestId('assignment-pop').filter({ hasText: '13800138000' }).waitFor({ timeout: 20000 });
    await page.getByTestId('conversation-item').filter({ hasText: '13800138000' }).first().click();
    const view = page.getByTestId('conversation');
    await view.getByText('快递什么时候到？').waitFor();
    assert.equal(await view.getByTestId('sms-badge').textContent(), 'SMS');
    await view.getByTestId('sms-phone').filter({ hasText: '13800138000' }).waitFor();
    await write(page, 'Tomorrow morning.');
    const out = await aliyun.nextSent((m) => m.PhoneNumbers === '13800138000');
    assert.deepEqual([out.SignName, out.TemplateCode, out.templateParam], ['客服中心', 'SMS_465000001', { content: 'Tomorrow morning.' }]);
    const delivered = view.locator('[data-testid="delivery-status"][data-status="delivered"]');
    await delivered.waitFor({ timeout: 20000 });
    assert.equal((await delivered.textContent()).trim(), '✓✓ Delivered');
    await page.screenshot({ path: `${ARTIFACTS}/aliyun-conversation.png` });
  } finally {
    await setStatus(agent.page, 'offline');
    await agent.context.close();
  }
});

test('an admin creates a Weibo inbox; a private message arrives with the Weibo badge', async () => {
  const { context, page } = await adminScreen('inboxes');
  let hook;
  try {
    await page.getByTestId('new-inbox').click();
    await page.getByTestId('new-inbox-kind').selectOption('weibo');
    await page.getByTestId('weibo-name').fill('Weibo 微博');
    await page.getByTestId('channel-form').getByLabel('More 更多').check();
    await page.getByTestId('weibo-app_secret').fill(weibo.appSecret);
    await page.getByTestId('weibo-access_token').fill(weibo.accessToken);
    await page.getByTestId('weibo-advanced').click();
    assert.equal(await page.getByTestId('weibo-api_base_url').inputValue(), 'https://m.api.weibo.com');
    await page.getByTestId('weibo-api_base_url').fill(weibo.url);
    const inbox = await createFrom(page);
    assert.equal(inbox.kind, 'weibo');
    assert.deepEqual(inbox.settings, { api_base_url: weibo.url, media_base_url: 'https://upload.api.weibo.com', window_hours: 48 });
    hook = `${server.url}${inbox.webhook_path}`;
    assert.equal(await page.getByTestId('webhook-url').inputValue(), hook);
    assert.match(await page.getByTestId('webhook-hint').textContent(), /message push URL/);
    await page.screenshot({ path: `${ARTIFACTS}/weibo-inbox.png`, fullPage: true });
  } finally {
    await context.close();
  }

  const agent = await workspace('agent@demo.kefu', { online: true });
  try {
    const { page } = agent;
    const pushed = await weibo.push(hook, { sender_id: 3900000123, text: '微博私信：订单问题' });
    assert.equal(pushed.status, 200, pushed.text);
    await page.getByTestId('assignment-pop').first().waitFor({ timeout: 20000 });
    await page.getByTestId('conversation-item').filter({ hasText: '微博私信' }).first().click();
    const view = page.getByTestId('conversation');
    await view.getByText('微博私信：订单问题').waitFor();
    assert.equal(await view.getByTestId('weibo-badge').textContent(), 'Weibo');
    // Weibo's 48-hour window: until when, no count.
    assert.match(await page.getByTestId('reply-window').textContent(), /^Replies allowed until [A-Z][a-z]{2} \d{1,2}, \d\d:\d\d$/);
    await page.screenshot({ path: `${ARTIFACTS}/weibo-conversation.png` });
  } finally {
    await setStatus(agent.page, 'offline');
    await agent.context.close();
  }
});

test('a web visitor and an SMS sender of the same name are merged from the contact panel, and unlinked again', async () => {
  assert.ok(smsInbox, 'the Aliyun inbox of the first test');
  const name = `Mei Lin ${uid('p').slice(-6)}`;
  const web = (await api(server, 'POST', '/api/v1/inboxes', { token: admin, body: { kind: 'web', name: uid('web'), teams: [team.id] } })).body.inbox;
  const { socket: visitor } = await connectVisitor(server, web.widget_token);
  try {
    const sent = await request(visitor, 'message:send', { client_id: uid('c'), content: 'Hello from the website' });
    assert.ok(sent.ok, JSON.stringify(sent));
    const cid = sent.message.conversation_id;
    const webContact = (await api(server, 'GET', `/api/v1/conversations/${cid}`, { token: admin })).body.conversation.contact_id;
    await api(server, 'PATCH', `/api/v1/contacts/${webContact}`, { token: admin, body: { name } });
    // The same customer texts the SMS number.
    assert.equal((await aliyun.push(textsUrl, [{ phone: '13800138111', content: 'A text from my phone' }])).status, 200);
    let smsContact;
    for (let i = 0; i < 100 && !smsContact; i++) {
      smsContact = (await api(server, 'GET', '/api/v1/contacts?q=13800138111', { token: admin })).body.contacts[0];
      if (!smsContact) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(smsContact, 'the SMS contact exists');
    await api(server, 'PATCH', `/api/v1/contacts/${smsContact.id}`, { token: admin, body: { name } });

    const { context, page } = await workspace('admin@demo.kefu');
    try {
      page.on('dialog', (d) => d.accept());
      await page.goto(`${server.url}/app/c/${cid}`);
      const panel = page.getByTestId('contact-panel');
      await panel.getByTestId('merge-search').waitFor();
      assert.match(await panel.getByTestId('person-section').textContent(), /Same person on other channels/);
      await panel.getByText('No other conversations.').waitFor();
      await panel.getByTestId('merge-search').fill(name);
      const result = panel.locator(`[data-testid="merge-result"][data-contact-id="${smsContact.id}"]`);
      await result.waitFor();
      assert.match(await result.textContent(), /SMS \(Aliyun\)/);
      assert.equal(await panel.locator(`[data-testid="merge-result"][data-contact-id="${webContact}"]`).count(), 0, 'not this contact itself');
      await result.getByTestId('merge-contact').click();
      const linked = panel.locator(`[data-testid="same-person-item"][data-contact-id="${smsContact.id}"]`);
      await linked.waitFor();
      assert.match(await linked.textContent(), /\+8613800138111/);
      // The person's conversations on both channels, each with its channel.
      const past = panel.getByTestId('past-conversations');
      await past.getByTestId('past-channel').filter({ hasText: 'SMS (Aliyun)' }).waitFor();
      const person = (await api(server, 'GET', `/api/v1/contacts/${webContact}/person`, { token: admin })).body.contacts.map((c) => c.id).sort();
      assert.deepEqual(person, [webContact, smsContact.id].sort());
      await page.screenshot({ path: `${ARTIFACTS}/contacts-merged.png` });

      await linked.getByTestId('unlink-contact').click();
      await linked.waitFor({ state: 'detached' });
      await panel.getByText('No other conversations.').waitFor();
      assert.deepEqual((await api(server, 'GET', `/api/v1/contacts/${webContact}/person`, { token: admin })).body.contacts.map((c) => c.id), [webContact]);
    } finally {
      await context.close();
    }
  } finally {
    visitor.close();
  }
});

test('the WeChat welcome message survives a save of the form (in Chinese)', async () => {
  const welcome = '欢迎关注！有问题直接留言，客服会尽快回复。';
  const made = await api(server, 'POST', '/api/v1/inboxes', {
    token: admin,
    body: { kind: 'wechat', name: uid('wechat'), teams: [team.id], settings: { app_id: 'wx5f0e7b1c2d3a4b5c', app_secret: 'secret-1', token: 'tok123', welcome_message: welcome } },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const inbox = made.body.inbox;
  const { context, page } = await adminScreen('inboxes', { locale: 'zh-CN' });
  try {
    await page.locator(`[data-testid="inbox-pick"][data-inbox-id="${inbox.id}"]`).click();
    const box = page.getByTestId('wechat-welcome');
    await box.waitFor();
    assert.equal(await box.inputValue(), welcome);
    assert.match(await page.getByTestId('wechat-form').textContent(), /关注回复[\s\S]*新用户关注时自动回复/);
    await page.getByTestId('wechat-window-hours').fill('24');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/inboxes/${inbox.id}`) && r.request().method() === 'PATCH'),
      page.getByTestId('wechat-save').click(),
    ]);
    assert.equal(res.status(), 200, await res.text());
    const saved = (await api(server, 'GET', `/api/v1/inboxes/${inbox.id}`, { token: admin })).body.inbox.settings;
    assert.equal(saved.welcome_message, welcome);
    assert.equal(saved.window_hours, 24);
    // Changed there, it is saved as changed.
    await box.fill('你好！');
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/inboxes/${inbox.id}`) && r.request().method() === 'PATCH'),
      page.getByTestId('wechat-save').click(),
    ]);
    assert.equal((await api(server, 'GET', `/api/v1/inboxes/${inbox.id}`, { token: admin })).body.inbox.settings.welcome_message, '你好！');
    await page.screenshot({ path: `${ARTIFACTS}/wechat-welcome-zh.png`, fullPage: true });
  } finally {
    await context.close();
  }
});
