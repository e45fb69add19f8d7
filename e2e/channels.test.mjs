// SMS and API inboxes and outbound webhooks in the browser, against the real binary in demo mode: an admin creates
// an SMS inbox against the Twilio stand-in of the Socket.IO suite (tests/socketio/twilio_standin.mjs), sees the
// webhook URL to set in Twilio and the "waiting" state that turns "connected" once Twilio calls; a text arrives live
// for the demo agent with the SMS badge and the phone number, and the reply reaches Twilio and goes from "Sent by
// SMS" to "Delivered". An admin creates an API inbox, sees and copies its secret, and rotates it; a message posted
// with it arrives with the API badge, and the reply reaches the integration, signed. An admin subscribes a local
// receiver to message.created: the delivery arrives signed with the webhook's secret, the log shows it delivered
// with HTTP 200; a receiver answering 400 shows it failed, and Retry sends it again. And the same screens in
// Chinese. Receivers are on loopback, so the server runs with KEFU_WEBHOOKS_ALLOW_PRIVATE=1. Screenshots go to
// e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { ARTIFACTS, DEMO_PASSWORD, launch, signIn, setStatus } from './browser.mjs';
import { startServer, login, uid, api, ADMIN } from '../tests/socketio/harness.mjs';
import { startTwilio } from '../tests/socketio/twilio_standin.mjs';

let server;
let browser;
let tw;
let admin;
let team;
/** The integration's server (API inbox replies) and the webhook subscriber. */
let integration;
let subscriber;
/** The API inbox the second test makes, and its current secret. */
let apiInbox;
let apiSecret;

/**
 * A small HTTP server that records what Kefu posts and answers with `answer(entry)` (200 unless told otherwise);
 * `next(pred)` resolves with the first recorded (or future) request that matches.
 */
async function startReceiver(path) {
  const got = [];
  const waiters = [];
  const receiver = { got, answer: () => 200 };
  const srv = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString();
    const entry = { headers: req.headers, body, json: JSON.parse(body) };
    entry.status = receiver.answer(entry);
    got.push(entry);
    res.writeHead(entry.status, { 'content-type': 'application/json' });
    res.end(entry.status === 200 ? '{"ok":true}' : '{"error":"not today"}');
    for (const w of [...waiters]) if (w.pred(entry)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry); }
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${srv.address().port}${path}`,
    next: (pred, ms = 30000) => {
      const found = got.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); reject(new Error(`nothing matching arrived: ${JSON.stringify(got.map((g) => g.json))}`)); } }, ms);
      });
    },
    stop: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(r); }),
  });
}

/** Checks X-Kefu-Signature as a receiver should: HMAC-SHA256(secret, "{t}.{body}"), and a fresh t. */
function assertSigned(entry, secret) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(entry.headers['x-kefu-signature'] ?? '');
  assert.ok(m, `signature header: ${entry.headers['x-kefu-signature']}`);
  assert.ok(Math.abs(Date.now() / 1000 - Number(m[1])) < 300, 'a fresh timestamp');
  assert.equal(m[2], createHmac('sha256', secret).update(`${m[1]}.${entry.body}`).digest('hex'), 'signed with the secret');
}

before(async () => {
  tw = await startTwilio();
  integration = await startReceiver('/crm/replies');
  subscriber = await startReceiver('/kefu/events');
  server = await startServer({ args: ['--demo'], env: { KEFU_WEBHOOKS_ALLOW_PRIVATE: '1' } });
  browser = await launch();
  admin = await login(server, ADMIN.email, ADMIN.password);
  // The demo has no teams: one with the demo agent, for the forms' team boxes to route the channels to.
  team = (await api(server, 'POST', '/api/v1/teams', { token: admin, body: { name: 'Channels 渠道' } })).body.team;
  const agent = (await api(server, 'GET', '/api/v1/users', { token: admin })).body.users.find((u) => u.email === 'agent@demo.kefu');
  await api(server, 'PUT', `/api/v1/teams/${team.id}/members/${agent.id}`, { token: admin });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await tw?.stop();
  await integration?.stop();
  await subscriber?.stop();
});

/** Someone signed in to the workspace in a browser context of their own. */
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

let n = 0;
const phone = () => `+1415555${String(2000 + (++n) + (process.pid % 5000)).slice(-4)}`;

/** The integration posts a customer's message with the secret, as a CRM would. */
async function postIn(body, secret = apiSecret) {
  return fetch(`${server.url}${apiInbox.webhook_path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify(body),
  });
}

test('an admin creates an SMS inbox; a text arrives live with the SMS badge, and the reply is delivered', async () => {
  const { context, page } = await adminScreen('inboxes');
  let hook;
  let inbox;
  try {
    await page.getByTestId('new-inbox').click();
    await page.getByTestId('new-inbox-kind').selectOption('twilio_sms');
    assert.equal(await page.getByTestId('new-inbox-kind').locator('option:checked').textContent(), 'SMS (Twilio)');
    assert.match(await page.getByTestId('new-inbox-hint').textContent(), /Twilio's Messages API/);
    await page.getByTestId('sms-name').fill('Texts 短信');
    await page.getByTestId('sms-form').getByLabel('Channels 渠道').check();
    // The form's own checks: a new inbox needs its auth token, and a number in international form.
    await page.getByTestId('sms-account-sid').fill(tw.accountSid);
    await page.getByTestId('sms-from-number').fill('415 555 0100');
    await page.getByTestId('sms-save').click();
    assert.match(await page.getByTestId('sms-error').textContent(), /auth token, phone number \(like \+14155550100\) or Messaging Service SID/);
    assert.equal(await page.getByTestId('sms-auth-token').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByTestId('sms-auth-token').getAttribute('type'), 'password');
    await page.getByTestId('sms-auth-token').fill(tw.authToken);
    await page.getByTestId('sms-from-number').fill(tw.from);
    assert.equal(await page.getByTestId('sms-from-number').getAttribute('aria-invalid'), null, 'typing takes the mark away');
    // Twilio's API is the default, tucked away under "Advanced"; here it is the stand-in.
    assert.equal(await page.getByTestId('sms-api-base').isVisible(), false);
    await page.getByTestId('sms-advanced').click();
    assert.equal(await page.getByTestId('sms-api-base').inputValue(), 'https://api.twilio.com');
    await page.getByTestId('sms-api-base').fill(tw.url);
    await page.screenshot({ path: `${ARTIFACTS}/sms-new-inbox.png`, fullPage: true });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/inboxes') && r.request().method() === 'POST'),
      page.getByTestId('sms-save').click(),
    ]);
    assert.equal(res.status(), 201, await res.text());
    inbox = (await res.json()).inbox;
    assert.equal(inbox.kind, 'twilio_sms');
    assert.deepEqual(inbox.teams, [team.id]);
    assert.deepEqual(inbox.settings, { account_sid: tw.accountSid, from_number: tw.from, api_base_url: tw.url });
    hook = `${server.url}${inbox.webhook_path}`;
    assert.equal(hook, `${server.url}/hooks/twilio_sms/${inbox.id}`);

    // The new inbox opens with the URL to set as the number's "A message comes in" webhook, and waits for Twilio.
    assert.equal(await page.getByTestId('webhook-url').inputValue(), hook);
    assert.match(await page.getByTestId('webhook-hint').textContent(), /"A message comes in" to Webhook, this URL, HTTP POST/);
    assert.match(await page.getByTestId('webhook-status-hint').textContent(), /same URL \+ \/status/);
    const waiting = page.locator('[data-testid="channel-state"][data-status="waiting"]');
    await waiting.waitFor();
    assert.match(await waiting.textContent(), /Waiting to connect/);
    assert.match(await waiting.getByTestId('channel-state-message').textContent(), /waiting for Twilio to call the webhook URL/);
    await page.getByTestId('webhook-url-copy').click();
    await page.getByTestId('webhook-url-copy').filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), hook);
    for (const id of ['widget-preview', 'widget-snippet', 'identity-secret']) assert.equal(await page.getByTestId(id).count(), 0, id);
    const pick = page.locator(`[data-testid="inbox-pick"][data-inbox-id="${inbox.id}"]`);
    assert.match(await pick.textContent(), /Texts 短信\s*SMS/);
    await pick.locator('.state-dot.waiting').waitFor();
    // An edit shows what was saved, with the token box empty as "unchanged".
    assert.equal(await page.getByTestId('sms-account-sid').inputValue(), tw.accountSid);
    assert.equal(await page.getByTestId('sms-auth-token').inputValue(), '');
    assert.equal(await page.getByTestId('sms-auth-token').getAttribute('placeholder'), 'Unchanged');
    assert.equal(await page.getByTestId('sms-api-base').inputValue(), tw.url, 'a base URL of its own shows opened');
    await page.screenshot({ path: `${ARTIFACTS}/sms-inbox-waiting.png`, fullPage: true });
  } finally {
    await context.close();
  }

  // A customer texts; the demo agent, online, gets it live.
  const agent = await workspace('agent@demo.kefu', { online: true });
  try {
    const customer = phone();
    const sent = await tw.text(hook, { from: customer, body: 'Is my table booked for 8pm?' });
    assert.equal(sent.status, 200, sent.text);
    const { page } = agent;
    await page.getByTestId('assignment-pop').filter({ hasText: customer }).waitFor({ timeout: 20000 });
    await page.getByTestId('conversation-item').filter({ hasText: customer }).first().click();
    const view = page.getByTestId('conversation');
    await view.getByText('Is my table booked for 8pm?').waitFor();
    assert.equal(await view.getByTestId('sms-badge').textContent(), 'SMS');
    await view.getByTestId('sms-phone').filter({ hasText: customer }).waitFor();
    assert.equal(await page.getByTestId('reply-window').count(), 0, 'SMS has no reply window');

    await write(page, 'Yes, table 4 at 8pm.');
    const out = await tw.nextSent((m) => m.to === customer);
    assert.deepEqual([out.from, out.body, out.status_callback], [tw.from, 'Yes, table 4 at 8pm.', `${hook}/status`]);
    // Twilio's status callbacks: sent, then delivered.
    const delivered = view.locator('[data-testid="delivery-status"][data-status="delivered"]');
    await delivered.waitFor({ timeout: 20000 });
    assert.equal((await delivered.textContent()).trim(), '✓✓ Delivered');
    await page.screenshot({ path: `${ARTIFACTS}/sms-conversation.png` });
    const cid = await view.getAttribute('data-conversation-id');

    // The same conversation in Chinese.
    const zh = await workspace('agent@demo.kefu', { locale: 'zh-CN' });
    try {
      await zh.page.goto(`${server.url}/app/c/${cid}`);
      const zhView = zh.page.getByTestId('conversation');
      await zhView.getByTestId('sms-badge').filter({ hasText: '短信' }).waitFor();
      await zhView.locator('[data-testid="delivery-status"][data-status="delivered"]').filter({ hasText: '已送达' }).waitFor();
      await zh.page.screenshot({ path: `${ARTIFACTS}/sms-conversation-zh.png` });
    } finally {
      await zh.context.close();
    }
  } finally {
    await setStatus(agent.page, 'offline');
    await agent.context.close();
  }

  // Twilio called: the admin's inbox says so, with the address Twilio calls.
  const again = await adminScreen('inboxes');
  try {
    await again.page.locator(`[data-testid="inbox-pick"][data-inbox-id="${inbox.id}"]`).click();
    const ok = again.page.locator('[data-testid="channel-state"][data-status="ok"]');
    await ok.waitFor();
    assert.match(await ok.textContent(), /Connected/);
    assert.match(await ok.getByTestId('channel-state-url').textContent(), new RegExp(`Twilio calls: ${hook.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    await again.page.screenshot({ path: `${ARTIFACTS}/sms-inbox-connected.png`, fullPage: true });
  } finally {
    await again.context.close();
  }
});

test('an admin creates an API inbox, copies and rotates its secret; a posted message arrives with the API badge', async () => {
  const { context, page } = await adminScreen('inboxes');
  try {
    await page.getByTestId('new-inbox').click();
    await page.getByTestId('new-inbox-kind').selectOption('api');
    assert.equal(await page.getByTestId('new-inbox-kind').locator('option:checked').textContent(), 'API (custom integration)');
    await page.getByTestId('api-name').fill('CRM 集成');
    await page.getByTestId('api-form').getByLabel('Channels 渠道').check();
    await page.getByTestId('api-reply-url').fill('ftp://crm.example.com/replies');
    await page.getByTestId('api-save').click();
    assert.match(await page.getByTestId('api-error').textContent(), /reply URL \(http or https\)/);
    assert.equal(await page.getByTestId('api-reply-url').getAttribute('aria-invalid'), 'true');
    await page.getByTestId('api-reply-url').fill(integration.url);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/inboxes') && r.request().method() === 'POST'),
      page.getByTestId('api-save').click(),
    ]);
    assert.equal(res.status(), 201, await res.text());
    apiInbox = (await res.json()).inbox;
    apiSecret = apiInbox.identity_secret;
    assert.equal(apiInbox.kind, 'api');
    assert.deepEqual(apiInbox.settings, { reply_url: integration.url });
    assert.ok(apiSecret);
    const endpoint = `${server.url}/hooks/api/${apiInbox.id}`;

    // The endpoint, how to call it, and the secret: hidden until shown, copied whole.
    assert.equal(await page.getByTestId('webhook-url').inputValue(), endpoint);
    const usage = await page.getByTestId('api-usage').textContent();
    assert.ok(usage.startsWith(`POST ${endpoint}\nAuthorization: Bearer <secret>\nContent-Type: application/json`), usage);
    assert.deepEqual(Object.keys(JSON.parse(usage.split('\n\n')[1])), ['contact', 'message']);
    const secret = page.getByTestId('api-secret');
    assert.equal(await secret.getAttribute('data-shown'), 'false');
    assert.ok(!(await secret.textContent()).includes(apiSecret), 'hidden until asked');
    await page.getByTestId('api-secret-show').click();
    assert.equal(await secret.textContent(), apiSecret);
    await page.getByTestId('api-secret-copy').click();
    await page.getByTestId('api-secret-copy').filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), apiSecret);
    assert.match(await page.getByTestId('api-reply-example').textContent(), /X-Kefu-Signature: t=<unix seconds>,v1=/);
    assert.match(await page.getByTestId('signature-help').textContent(), /older than 5 minutes/);
    await page.locator('[data-testid="channel-state"][data-status="waiting"]').filter({ hasText: "waiting for the integration's first message" }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/api-inbox.png`, fullPage: true });

    // Rotate: asked first; the new secret shows and works, the old one is refused.
    page.once('dialog', (d) => d.accept());
    await page.getByTestId('api-secret-rotate').click();
    await page.waitForFunction(([el, old]) => document.querySelector(el).textContent !== old, ['[data-testid="api-secret"]', apiSecret]);
    const rotated = await secret.textContent();
    assert.match(rotated, /^[A-Za-z0-9_-]{20,}$/);
    assert.notEqual(rotated, apiSecret);
    assert.equal((await postIn({ contact: { id: 'x' }, message: { id: 'x', content: 'old secret' } })).status, 401);
    apiSecret = rotated;
    await page.getByTestId('api-usage-copy').click();
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), new RegExp(`-H 'Authorization: Bearer ${rotated}'`));
  } finally {
    await context.close();
  }

  const agent = await workspace('agent@demo.kefu', { online: true });
  try {
    const { page } = agent;
    const posted = await postIn({ contact: { id: 'crm-1001', name: 'Zhao Lei 赵磊', email: 'zhao@example.com' }, message: { id: uid('m'), content: 'Where is my invoice?' } });
    assert.equal(posted.status, 201, await posted.text());
    await page.getByTestId('assignment-pop').filter({ hasText: 'Zhao Lei 赵磊' }).waitFor({ timeout: 20000 });
    await page.getByTestId('conversation-item').filter({ hasText: 'Zhao Lei 赵磊' }).first().click();
    const view = page.getByTestId('conversation');
    await view.getByText('Where is my invoice?').waitFor();
    assert.equal(await view.getByTestId('api-badge').textContent(), 'API');
    await view.getByTestId('api-contact-id').filter({ hasText: 'crm-1001' }).waitFor();
    await page.getByTestId('contact-integration-id').filter({ hasText: 'crm-1001' }).waitFor();

    await write(page, 'Sent to your email just now.');
    const reply = await integration.next((e) => e.json.message?.content === 'Sent to your email just now.');
    assertSigned(reply, apiSecret);
    assert.equal(reply.json.event, 'message.created');
    assert.equal(reply.json.contact.id, 'crm-1001');
    const sent = view.locator('[data-testid="delivery-status"][data-status="sent"]');
    await sent.waitFor({ timeout: 20000 });
    assert.equal((await sent.textContent()).trim(), '✓ Sent to your integration');
    await page.screenshot({ path: `${ARTIFACTS}/api-conversation.png` });
  } finally {
    await setStatus(agent.page, 'offline');
    await agent.context.close();
  }
});

test('webhooks: an admin subscribes a receiver; deliveries arrive signed, the log shows them, a failed one is retried', async () => {
  assert.ok(apiInbox, 'the API inbox of the previous test');
  const { context, page } = await adminScreen('webhooks');
  try {
    await page.getByTestId('webhooks-empty').waitFor();
    await page.getByTestId('new-webhook').click();
    // The form's own check: a URL and at least one event.
    await page.getByTestId('wh-save').click();
    assert.match(await page.getByTestId('wh-error').textContent(), /URL \(http or https\), events \(at least one\)/);
    assert.equal(await page.getByTestId('wh-url').getAttribute('aria-invalid'), 'true');
    await page.getByTestId('wh-url').fill(subscriber.url);
    assert.match(await page.getByTestId('wh-events').textContent(), /A message is sent or received\s*message\.created/);
    await page.getByTestId('wh-event-message.created').check();
    // The server's refusal shows by the field, in its words (here an installation that refuses private targets,
    // played by answering the request in its place).
    await page.route('**/api/v1/webhooks', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({ status: 422, contentType: 'application/json', body: JSON.stringify({ error: { code: 'invalid_input', message: 'url is on this machine or a private network; set KEFU_WEBHOOKS_ALLOW_PRIVATE=1 to allow such targets' } }) })
        : route.fallback(),
    );
    await page.getByTestId('wh-save').click();
    await page.getByTestId('wh-error').filter({ hasText: 'KEFU_WEBHOOKS_ALLOW_PRIVATE' }).waitFor();
    assert.equal(await page.getByTestId('wh-url').getAttribute('aria-invalid'), 'true');
    await page.unroute('**/api/v1/webhooks');
    await page.screenshot({ path: `${ARTIFACTS}/webhook-new.png`, fullPage: true });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/webhooks') && r.request().method() === 'POST'),
      page.getByTestId('wh-save').click(),
    ]);
    assert.equal(res.status(), 201, await res.text());
    const webhook = (await res.json()).webhook;
    assert.deepEqual([webhook.url, webhook.events, webhook.active], [subscriber.url, ['message.created'], true]);
    let secret = webhook.secret;

    // The list shows it, active; the secret is hidden until shown.
    const row = page.locator(`[data-testid="webhook-row"][data-webhook-id="${webhook.id}"]`);
    assert.equal(await row.getByTestId('webhook-events').textContent(), 'message.created');
    assert.equal(await row.getByTestId('webhook-active').isChecked(), true);
    await page.getByTestId('deliveries-empty').waitFor();
    await page.getByTestId('wh-secret-show').click();
    assert.equal(await page.getByTestId('wh-secret').textContent(), secret);
    assert.match(await page.getByTestId('signature-help').textContent(), /HMAC-SHA256 with the secret over "\{t\}\.\{body\}"/);

    // A customer's message: the receiver gets message.created, signed with the webhook's secret.
    const first = uid('first');
    assert.equal((await postIn({ contact: { id: 'crm-2002', name: 'Webhook customer' }, message: { id: uid('m'), content: first } })).status, 201);
    const got = await subscriber.next((e) => e.json.data?.message?.content === first);
    assertSigned(got, secret);
    assert.equal(got.json.event, 'message.created');
    assert.equal(got.headers['x-kefu-event'], 'message.created');
    const delivered = page.locator(`[data-testid="delivery-row"][data-delivery-id="${got.headers['x-kefu-delivery']}"]`);
    await delivered.and(page.locator('[data-status="delivered"]')).waitFor();
    assert.equal(await delivered.getByTestId('delivery-http').textContent(), '200');
    assert.equal(await delivered.getByTestId('delivery-status-text').textContent(), 'Delivered');
    assert.equal(await delivered.getByTestId('delivery-attempts').textContent(), '1');
    await page.screenshot({ path: `${ARTIFACTS}/webhook-delivered.png`, fullPage: true });

    // A new secret signs what follows.
    page.once('dialog', (d) => d.accept());
    await page.getByTestId('wh-secret-rotate').click();
    await page.waitForFunction(([el, old]) => document.querySelector(el).textContent !== old, ['[data-testid="wh-secret"]', secret]);
    secret = await page.getByTestId('wh-secret').textContent();

    // The receiver refuses the next one (400): failed, with its answer; Retry sends it again, and now it is taken.
    const refused = uid('refused');
    subscriber.answer = (e) => (e.json.data?.message?.content === refused && !subscriber.got.some((g) => g.json.id === e.json.id) ? 400 : 200);
    assert.equal((await postIn({ contact: { id: 'crm-2002' }, message: { id: uid('m'), content: refused } })).status, 201);
    const no = await subscriber.next((e) => e.json.data?.message?.content === refused);
    assert.equal(no.status, 400);
    assertSigned(no, secret);
    const failed = page.locator(`[data-testid="delivery-row"][data-delivery-id="${no.headers['x-kefu-delivery']}"]`);
    await page.getByTestId('deliveries-refresh').click();
    await failed.and(page.locator('[data-status="failed"]')).waitFor();
    assert.equal(await failed.getByTestId('delivery-http').textContent(), '400');
    assert.match(await failed.getByTestId('delivery-error').textContent(), /HTTP 400/);
    assert.equal(await delivered.getByTestId('delivery-retry').count(), 0, 'only failed deliveries are retried by hand');
    await page.screenshot({ path: `${ARTIFACTS}/webhook-failed.png`, fullPage: true });
    await failed.getByTestId('delivery-retry').click();
    const yes = await subscriber.next((e) => e.json.data?.message?.content === refused && e.status === 200);
    assert.equal(yes.json.id, no.json.id, 'the same delivery, sent again');
    assertSigned(yes, secret);
    await failed.and(page.locator('[data-status="delivered"]')).waitFor();
    assert.equal(await failed.getByTestId('delivery-http').textContent(), '200');
    assert.equal(await failed.getByTestId('delivery-retry').count(), 0);

    // The list's switch pauses it at once: nothing is sent while it is off.
    await row.getByTestId('webhook-active').uncheck();
    await page.locator(`[data-testid="webhook-row"][data-webhook-id="${webhook.id}"][data-active="false"]`).waitFor();
    const stored = (await api(server, 'GET', '/api/v1/webhooks', { token: admin })).body.webhooks.find((w) => w.id === webhook.id);
    assert.equal(stored.active, false);
    await page.screenshot({ path: `${ARTIFACTS}/webhook-log.png`, fullPage: true });
    await row.getByTestId('webhook-active').check();
    await page.locator(`[data-testid="webhook-row"][data-webhook-id="${webhook.id}"][data-active="true"]`).waitFor();

    // An edit of the events saves only them.
    await page.getByTestId('wh-event-ticket.created').check();
    const [patch] = await Promise.all([
      page.waitForRequest((r) => r.url().endsWith(`/api/v1/webhooks/${webhook.id}`) && r.method() === 'PATCH'),
      page.getByTestId('wh-save').click(),
    ]);
    assert.deepEqual(patch.postDataJSON(), { events: ['message.created', 'ticket.created'] });
    await row.getByTestId('webhook-events').filter({ hasText: 'message.created, ticket.created' }).waitFor();
  } finally {
    await context.close();
  }
});

test('in Chinese: the Webhooks tab, its events and log, and the new inbox kinds', async () => {
  const { context, page } = await adminScreen('webhooks', { locale: 'zh-CN' });
  try {
    assert.equal(await page.getByTestId('admin-tab-webhooks').textContent(), 'Webhooks（事件推送）');
    await page.getByTestId('webhook-row').first().waitFor();
    assert.match(await page.getByTestId('wh-events').textContent(), /发出或收到消息\s*message\.created/);
    await page.locator('[data-testid="delivery-row"][data-status="delivered"]').first().getByTestId('delivery-status-text').filter({ hasText: '已送达' }).waitFor();
    assert.match(await page.getByTestId('signature-help').textContent(), /早于 5 分钟前/);
    await page.screenshot({ path: `${ARTIFACTS}/webhooks-zh.png`, fullPage: true });

    await page.getByTestId('admin-tab-inboxes').click();
    const pick = page.locator(`[data-testid="inbox-pick"][data-inbox-id="${apiInbox.id}"]`);
    await pick.click();
    assert.equal(await page.getByTestId('api-secret-rotate').textContent(), '更换');
    await page.locator('[data-testid="channel-state"][data-status="ok"]').filter({ hasText: '已连接' }).waitFor();
    await page.getByTestId('new-inbox').click();
    const kinds = await page.getByTestId('new-inbox-kind').locator('option').allTextContents();
    assert.deepEqual(kinds, ['网站聊天', '邮件', '微信公众号', '企业微信客服', '微博', '短信（Twilio）', '短信（阿里云）', 'API（自定义集成）']);
    await page.getByTestId('new-inbox-kind').selectOption('twilio_sms');
    assert.match(await page.getByTestId('sms-form').textContent(), /Twilio 账户/);
    await page.screenshot({ path: `${ARTIFACTS}/sms-new-inbox-zh.png`, fullPage: true });
  } finally {
    await context.close();
  }
});
