// WeChat Official Account inboxes in the agents' workspace, in a real browser against the real binary in demo mode,
// with the stand-in of WeChat's platform from the Socket.IO suite (tests/socketio/wechat_standin.mjs): an admin
// creates a WeChat inbox in the browser, sees the webhook URL to paste into WeChat and the "waiting" state that
// turns "connected" once WeChat calls, and turns safe mode on and off; a follower's message arrives live in the
// demo agent's workspace with the WeChat badge and OpenID, the reply reaches WeChat and says "Sent to WeChat"; the
// follower's picture shows in the conversation, the agent's PNG reaches WeChat as an image and a PDF is refused
// with WeChat's limits; the reply window closes the reply box with its reason once the replies WeChat allows are
// used up, while a private note still goes, opens again when the customer writes, and a reply refused by a window
// that closed unseen keeps its words in the box. Screenshots go to e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, DEMO_PASSWORD, launch, signIn, setStatus } from './browser.mjs';
import { startServer, login, uid, api, ADMIN } from '../tests/socketio/harness.mjs';
import { startWechat } from '../tests/socketio/wechat_standin.mjs';
import { PNG } from '../tests/socketio/multipart.mjs';

const TOKEN = 'kefuE2eToken2025';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE';

let server;
let browser;
let wx;
let admin;
let team;
/** The inbox the first test makes, as the server has it, and the URL WeChat calls. */
let account;
let hook;

before(async () => {
  wx = await startWechat();
  server = await startServer({ args: ['--demo'] });
  browser = await launch();
  admin = await login(server, ADMIN.email, ADMIN.password);
  // The demo has no teams: one with the demo agent, for the form's team boxes to route WeChat's messages to.
  team = (await api(server, 'POST', '/api/v1/teams', { token: admin, body: { name: 'WeChat 微信' } })).body.team;
  const agent = (await api(server, 'GET', '/api/v1/users', { token: admin })).body.users.find((u) => u.email === 'agent@demo.kefu');
  await api(server, 'PUT', `/api/v1/teams/${team.id}/members/${agent.id}`, { token: admin });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await wx?.stop();
});

/** Someone signed in to the workspace in a browser context of their own. */
const workspace = (email, { locale = 'en-US', online = false } = {}) =>
  signIn(browser, server.url, email, DEMO_PASSWORD, { locale, online, height: 900 });

async function adminInboxes() {
  const session = await workspace('admin@demo.kefu');
  await session.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await session.page.getByTestId('nav-admin').click();
  await session.page.getByTestId('admin-tab-inboxes').click();
  await session.page.getByTestId('new-inbox').waitFor();
  return session;
}

const openid = () => `o${uid('wx').replace(/[^a-zA-Z0-9]/g, '')}`;
let msgSeq = 0;
/** A follower writes to the account: WeChat's signed call to the webhook. */
const follower = (from, content) => post({ from, content });
/** A follower sends a picture WeChat keeps under `mediaId` (Kefu fetches it from WeChat's media/get). */
const picture = (from, mediaId) =>
  post({ from, type: 'image', extra: `<PicUrl><![CDATA[http://mmbiz.example/p]]></PicUrl><MediaId><![CDATA[${mediaId}]]></MediaId>` });
async function post(message) {
  msgSeq += 1;
  const res = await wx.push(hook, { token: TOKEN }, { ...message, msgId: String(Date.now() * 1000 + msgSeq) });
  assert.deepEqual(res, { status: 200, text: 'success' });
}

/** The demo agent opens the conversation of a follower, by the name Kefu gave them ("WeChat user" + OpenID's tail). */
async function open(page, from) {
  const name = `WeChat user ${from.slice(-6)}`;
  await page.getByTestId('conversation-item').filter({ hasText: name }).first().click({ timeout: 20000 });
  const view = page.getByTestId('conversation');
  await view.getByTestId('wechat-badge').waitFor();
  return view;
}

async function write(page, text) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}

test('an admin creates a WeChat inbox in the browser, copies its webhook URL and sees WeChat connect', async () => {
  const { context, page } = await adminInboxes();
  try {
    await page.getByTestId('new-inbox').click();
    await page.getByTestId('new-inbox-kind').selectOption('wechat');
    assert.equal(await page.getByTestId('new-inbox-kind').locator('option:checked').textContent(), 'WeChat Official Account');
    await page.getByTestId('wechat-name').fill('Official Account 公众号');
    await page.getByTestId('wechat-form').getByLabel('WeChat 微信').check();
    await page.getByTestId('wechat-app-id').fill(wx.appId);
    // The form's own check: a new inbox needs its AppSecret and Token.
    await page.getByTestId('wechat-save').click();
    assert.match(await page.getByTestId('wechat-error').textContent(), /AppSecret, Token/);
    assert.equal(await page.getByTestId('wechat-app-secret').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByTestId('wechat-app-secret').getAttribute('type'), 'password');
    await page.getByTestId('wechat-app-secret').fill(wx.appSecret);
    await page.getByTestId('wechat-token').fill(TOKEN);
    assert.equal(await page.getByTestId('wechat-app-secret').getAttribute('aria-invalid'), null, 'typing takes the mark away');
    // WeChat's API is the default, tucked away under "Advanced"; here it is the stand-in.
    assert.equal(await page.getByTestId('wechat-api-base').isVisible(), false);
    await page.getByTestId('wechat-advanced').click();
    assert.equal(await page.getByTestId('wechat-api-base').inputValue(), 'https://api.weixin.qq.com');
    await page.getByTestId('wechat-api-base').fill(wx.url);
    assert.equal(await page.getByTestId('wechat-window-hours').inputValue(), '48');
    assert.equal(await page.getByTestId('wechat-window-messages').inputValue(), '5');
    await page.screenshot({ path: `${ARTIFACTS}/wechat-new-inbox.png`, fullPage: true });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/inboxes') && r.request().method() === 'POST'),
      page.getByTestId('wechat-save').click(),
    ]);
    assert.equal(res.status(), 201, await res.text());
    account = (await res.json()).inbox;
    assert.equal(account.kind, 'wechat');
    assert.deepEqual(account.teams, [team.id]);
    assert.equal(account.settings.api_base_url, wx.url);
    hook = `${server.url}${account.webhook_path}`;

    // The new inbox opens with the URL to paste into WeChat, the Token reminder, and its state: waiting.
    const url = page.getByTestId('webhook-url');
    assert.equal(await url.inputValue(), hook);
    assert.equal(await url.getAttribute('readonly'), '');
    assert.match(await page.getByTestId('webhook-hint').textContent(), /Paste this URL and the same Token in WeChat's server configuration/);
    assert.match(await page.getByTestId('webhook-mode').textContent(), /plain mode/);
    const waiting = page.locator('[data-testid="channel-state"][data-status="waiting"]');
    await waiting.waitFor();
    assert.match(await waiting.textContent(), /Waiting to connect/);
    assert.match(await waiting.getByTestId('channel-state-message').textContent(), /waiting for WeChat to call the webhook URL/);
    await page.getByTestId('webhook-url-copy').click();
    await page.getByTestId('webhook-url-copy').filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), hook);
    // No website-chat parts for WeChat.
    for (const id of ['widget-preview', 'widget-snippet', 'identity-secret']) assert.equal(await page.getByTestId(id).count(), 0, id);
    // The list names the kind, with the state's dot.
    const pick = page.locator(`[data-testid="inbox-pick"][data-inbox-id="${account.id}"]`);
    assert.match(await pick.textContent(), /Official Account 公众号\s*WeChat/);
    await pick.locator('.state-dot.waiting').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/wechat-inbox-waiting.png`, fullPage: true });

    // WeChat calls: the state, polled while the page is open, turns "connected".
    await follower(openid(), 'hello from WeChat');
    await page.locator('[data-testid="channel-state"][data-status="ok"]').waitFor({ timeout: 20000 });
    assert.match(await page.getByTestId('channel-state').textContent(), /Connected/);
    await pick.locator('.state-dot.ok').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/wechat-inbox-connected.png`, fullPage: true });

    // An edit shows what was saved, credentials left empty as "unchanged"; a typed EncodingAESKey turns safe mode on.
    assert.equal(await page.getByTestId('wechat-app-id').inputValue(), wx.appId);
    for (const id of ['wechat-app-secret', 'wechat-token']) {
      assert.equal(await page.getByTestId(id).inputValue(), '');
      assert.equal(await page.getByTestId(id).getAttribute('placeholder'), 'Unchanged');
    }
    assert.equal(await page.getByTestId('wechat-api-base').inputValue(), wx.url, 'a base URL of its own shows opened');
    await page.getByTestId('wechat-aes-key').fill('too short');
    await page.getByTestId('wechat-save').click();
    assert.match(await page.getByTestId('wechat-error').textContent(), /EncodingAESKey/);
    await page.getByTestId('wechat-aes-key').fill(AES_KEY);
    await page.getByTestId('wechat-save').click();
    await page.getByTestId('wechat-safe-mode').waitFor();
    assert.match(await page.getByTestId('webhook-mode').textContent(), /safe mode, with the same EncodingAESKey/);
    assert.equal(await page.getByTestId('wechat-aes-key').inputValue(), '', 'the typed key is not kept on screen');
    assert.equal(await page.getByTestId('wechat-aes-key').getAttribute('placeholder'), 'Unchanged');
    let stored = (await api(server, 'GET', `/api/v1/inboxes/${account.id}`, { token: admin })).body.inbox;
    assert.equal(stored.settings.safe_mode, true);
    assert.ok(!JSON.stringify(stored).includes(AES_KEY), 'the key is never returned');
    await page.screenshot({ path: `${ARTIFACTS}/wechat-inbox-safe-mode.png`, fullPage: true });
    // "Turn off safe mode" sends an empty key; the Token and AppSecret stay as they were.
    await page.getByTestId('wechat-safe-off').check();
    assert.equal(await page.getByTestId('wechat-aes-key').isDisabled(), true);
    await page.getByTestId('wechat-save').click();
    await page.getByTestId('wechat-safe-mode').waitFor({ state: 'detached' });
    await page.getByTestId('webhook-mode').filter({ hasText: 'plain mode' }).waitFor();
    stored = (await api(server, 'GET', `/api/v1/inboxes/${account.id}`, { token: admin })).body.inbox;
    assert.equal(stored.settings.safe_mode, false);
    await follower(openid(), 'still signed with the same Token');
  } finally {
    await context.close();
  }
});

test('a follower\'s message arrives live with the WeChat badge; the reply reaches WeChat and says so', async () => {
  assert.ok(account, 'the inbox of the first test');
  const { context, page } = await workspace('agent@demo.kefu', { online: true });
  try {
    const from = openid();
    await follower(from, '你好，我的订单还没到');
    await page.getByTestId('assignment-pop').filter({ hasText: `WeChat user ${from.slice(-6)}` }).waitFor({ timeout: 20000 });
    const view = await open(page, from);
    await view.getByText('你好，我的订单还没到').waitFor();
    assert.equal(await view.getByTestId('wechat-badge').textContent(), 'WeChat');
    assert.equal(await view.getByTestId('wechat-openid').textContent(), from);
    assert.equal(await page.getByTestId('contact-openid').textContent(), from);
    // 48 hours after the customer wrote: another day, so with its date.
    assert.match(await page.getByTestId('reply-window').textContent(), /^Replies allowed until [A-Z][a-z]{2} \d{1,2}, \d\d:\d\d · 5 left$/);

    await write(page, 'Hello! Let me check your order.');
    const out = await wx.nextSent((m) => m.touser === from);
    assert.deepEqual(out, { touser: from, msgtype: 'text', text: { content: 'Hello! Let me check your order.' } });
    const sent = view.locator('[data-testid="delivery-status"][data-status="sent"]');
    await sent.waitFor({ timeout: 20000 });
    assert.match(await sent.textContent(), /Sent to WeChat/);
    await page.getByTestId('reply-window').filter({ hasText: '4 left' }).waitFor();
    // The customer answers live.
    await follower(from, '单号 A-1001');
    await view.getByText('单号 A-1001').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/wechat-conversation.png` });
  } finally {
    await setStatus(page, 'offline');
    await context.close();
  }
});

test('files: a follower\'s picture shows inline; the agent\'s PNG reaches WeChat as an image, a PDF is refused with WeChat\'s limits', async () => {
  assert.ok(account, 'the inbox of the first test');
  const { context, page } = await workspace('agent@demo.kefu', { online: true });
  try {
    const from = openid();
    await picture(from, wx.addMedia(PNG, 'image/png', 'photo.png'));
    const view = await open(page, from);
    // Stored at once as "[image]"; the picture follows once Kefu has fetched it from WeChat (message:updated).
    const theirs = view.getByTestId('message').filter({ hasText: '[image]' });
    await theirs.waitFor();
    const shown = theirs.getByTestId('attachment-image');
    await shown.waitFor({ timeout: 20000 });
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await shown.elementHandle(), { timeout: 10000 });
    assert.equal(await shown.evaluate((img) => img.naturalWidth), 1);
    assert.equal(await shown.getAttribute('loading'), 'lazy');
    const link = theirs.getByTestId('attachment');
    assert.equal(await shown.getAttribute('alt'), await link.getAttribute('download'));
    assert.match(await link.getAttribute('href'), /^\/api\/v1\/attachments\/[0-9a-f-]{36}$/);

    // The agent's PNG, with words in the box that stay there: busy while it goes up, then an image message.
    await page.getByTestId('composer').fill('Here is your receipt');
    let release;
    const held = new Promise((resolve) => (release = resolve));
    const upload = (url) => url.pathname.endsWith('/attachments');
    await page.route(upload, async (route) => {
      await held;
      await route.fallback();
    });
    await page.getByTestId('attach-input').setInputFiles({ name: 'receipt.png', mimeType: 'image/png', buffer: PNG });
    const attach = page.getByRole('button', { name: 'Attach a file' });
    await page.locator('[data-testid="attach-button"][aria-busy="true"]').waitFor();
    assert.equal(await attach.isDisabled(), true);
    assert.equal(await page.getByTestId('file-sending').textContent(), 'Sending receipt.png…');
    release();
    const out = await wx.nextSent((m) => m.touser === from && m.msgtype === 'image');
    const uploaded = wx.media(out.image.media_id);
    assert.equal(uploaded.type, 'image');
    assert.equal(uploaded.filename, 'receipt.png');
    assert.ok(uploaded.data.equals(PNG), 'the bytes of the chosen file');
    const ours = view.getByTestId('message').filter({ hasText: 'receipt.png' });
    await ours.locator('[data-testid="delivery-status"][data-status="sent"]').filter({ hasText: 'Sent to WeChat' }).waitFor({ timeout: 20000 });
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await ours.getByTestId('attachment-image').elementHandle());
    assert.equal(await ours.count(), 1, 'the answer and the push are one message');
    await page.locator('[data-testid="attach-button"]:not([disabled])').waitFor();
    assert.equal(await page.getByTestId('file-sending').count(), 0);
    assert.equal(await page.getByTestId('composer').inputValue(), 'Here is your receipt');
    await page.unroute(upload);

    // A PDF, chosen with the paperclip: WeChat cannot carry it, the composer says what it takes, nothing is stored.
    const cid = await view.getAttribute('data-conversation-id');
    const stored = async () => (await api(server, 'GET', `/api/v1/conversations/${cid}/messages`, { token: admin })).body.messages.length;
    const before = await stored();
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), attach.click()]);
    await chooser.setFiles({ name: 'invoice.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 invoice') });
    const refusal = page.getByTestId('composer-error');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /WeChat takes images \(JPEG, PNG, GIF up to 10 MB\) and voice/);
    assert.equal(await refusal.getAttribute('role'), 'alert');
    assert.equal(await stored(), before, 'nothing was stored');
    assert.equal(await view.getByText('invoice.pdf').count(), 0);
    assert.equal(await page.getByTestId('pending-message').count(), 0);
    assert.equal(wx.sent.filter((m) => m.touser === from && m.msgtype === 'image').length, 1);
    assert.equal(await page.getByTestId('composer').inputValue(), 'Here is your receipt');
    await page.screenshot({ path: `${ARTIFACTS}/wechat-files.png` });
    // The words still go as a reply of their own, and the refusal goes away.
    await page.getByTestId('composer').press('Enter');
    await wx.nextSent((m) => m.touser === from && m.text?.content === 'Here is your receipt');
    assert.equal(await refusal.count(), 0);
  } finally {
    await setStatus(page, 'offline');
    await context.close();
  }
});

test('the reply window: used up, the reply box closes with its reason while notes still go, and opens when the customer writes', async () => {
  assert.ok(account, 'the inbox of the first test');
  const patched = await api(server, 'PATCH', `/api/v1/inboxes/${account.id}`, {
    token: admin, body: { settings: { app_id: wx.appId, api_base_url: wx.url, window_messages: 1 } },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const { context, page } = await workspace('agent@demo.kefu', { online: true, locale: 'zh-CN' });
  try {
    const from = openid();
    await follower(from, '能退货吗？');
    const view = await open(page, from);
    await view.getByText('能退货吗？').waitFor();
    assert.equal(await view.getByTestId('wechat-badge').textContent(), '微信');
    await page.getByTestId('reply-window').filter({ hasText: '剩余 1 条' }).waitFor();
    assert.match(await page.getByTestId('reply-window').textContent(), /^可回复至 \d{1,2}月\d{1,2}日 \d\d:\d\d · 剩余 1 条$/);

    await write(page, '可以，七天内都能退。');
    await wx.nextSent((m) => m.touser === from);
    const closed = page.getByTestId('reply-window-closed');
    await closed.waitFor();
    assert.match(await closed.textContent(), /^微信允许的回复条数已用完，需等客户再次发消息。/);
    assert.match(await closed.textContent(), /仍可添加内部备注/);
    assert.equal(await page.getByTestId('composer').isDisabled(), true);
    assert.equal(await page.getByTestId('send-button').isDisabled(), true);
    assert.equal(await page.getByTestId('reply-window').count(), 0);
    await view.locator('[data-testid="delivery-status"][data-status="sent"]').filter({ hasText: '已发送到微信' }).waitFor({ timeout: 20000 });
    await page.screenshot({ path: `${ARTIFACTS}/wechat-window-closed.png` });

    // A private note never goes to WeChat: it still goes.
    await page.getByTestId('note-toggle').click();
    assert.equal(await page.getByTestId('composer').isDisabled(), false);
    await write(page, '客户要退货，等他回复');
    await view.getByTestId('private-note').filter({ hasText: '客户要退货，等他回复' }).waitFor();
    assert.equal(await view.getByTestId('private-note').getByTestId('delivery-status').count(), 0);
    await page.getByTestId('reply-toggle').click();
    await closed.waitFor();
    assert.equal(await page.getByTestId('composer').isDisabled(), true);

    // The customer writes again: the window opens.
    await follower(from, '好的，怎么寄回？');
    await view.getByText('好的，怎么寄回？').waitFor();
    await page.locator('[data-testid="composer"]:not([disabled])').waitFor();
    await page.getByTestId('reply-window').filter({ hasText: '剩余 1 条' }).waitFor();
    assert.equal(await closed.count(), 0);

    // The window closes without this page knowing (its look-ups are held while an admin uses up the reply): the
    // refused reply keeps its words in the box, and the reason shows.
    let blind = true;
    const held = [];
    await page.route('**/reply_window', (route) => (blind ? held.push(route) : route.fallback()));
    const cid = await view.getAttribute('data-conversation-id');
    const byAdmin = await api(server, 'POST', `/api/v1/conversations/${cid}/messages`, {
      token: admin, body: { client_id: uid('r'), content: '请寄到仓库地址。' },
    });
    assert.equal(byAdmin.status, 201, JSON.stringify(byAdmin.body));
    await view.getByText('请寄到仓库地址。').waitFor();
    assert.equal(await page.getByTestId('composer').isDisabled(), false, 'the page still thinks it may reply');
    await write(page, '地址稍后发给您');
    // From here on the page learns the truth, whichever look-up tells it first.
    blind = false;
    for (const route of held.splice(0)) await route.fallback();
    await closed.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="composer"]').value === '地址稍后发给您');
    assert.match(await closed.textContent(), /^微信允许的回复条数已用完/);
    assert.equal(await page.getByTestId('composer').isDisabled(), true);
    assert.equal(await page.getByTestId('send-failed').count(), 0, 'the words went back into the box, not onto a failed message');
    assert.equal(await page.getByTestId('pending-message').count(), 0);
    assert.equal(await view.getByTestId('message').filter({ hasText: '地址稍后发给您' }).count(), 0);
    await page.screenshot({ path: `${ARTIFACTS}/wechat-window-refused.png` });
    await page.unroute('**/reply_window');
    // They can still go as a note.
    await page.getByTestId('note-toggle').click();
    await page.getByTestId('composer').press('Enter');
    await view.getByTestId('private-note').filter({ hasText: '地址稍后发给您' }).waitFor();
  } finally {
    await setStatus(page, 'offline');
    await context.close();
  }
});

test('in Chinese: the kind, the waiting state, the Token reminder and "unchanged" credentials', async () => {
  const made = await api(server, 'POST', '/api/v1/inboxes', {
    token: admin,
    body: { kind: 'wechat', name: '服务号', teams: [], settings: { app_id: wx.appId, app_secret: wx.appSecret, token: 'zhToken123', api_base_url: wx.url } },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const { context, page } = await workspace('admin@demo.kefu', { locale: 'zh-CN' });
  try {
    await page.getByTestId('nav-admin').click();
    await page.getByTestId('admin-tab-inboxes').click();
    const pick = page.locator(`[data-testid="inbox-pick"][data-inbox-id="${made.body.inbox.id}"]`);
    assert.match(await pick.textContent(), /服务号\s*微信公众号/);
    await pick.click();
    await page.locator('[data-testid="channel-state"][data-status="waiting"]').filter({ hasText: '等待接入' }).waitFor();
    assert.match(await page.getByTestId('webhook-hint').textContent(), /^在微信公众平台的服务器配置.*中粘贴此 URL 和相同的 Token/);
    assert.equal(await page.getByTestId('webhook-url').inputValue(), `${server.url}/hooks/wechat/${made.body.inbox.id}`);
    assert.equal(await page.getByTestId('wechat-token').getAttribute('placeholder'), '不修改');
    await page.screenshot({ path: `${ARTIFACTS}/wechat-inbox-zh.png`, fullPage: true });
    await page.getByTestId('new-inbox').click();
    await page.getByTestId('new-inbox-kind').selectOption('wechat');
    assert.equal(await page.getByTestId('new-inbox-kind').locator('option:checked').textContent(), '微信公众号');
  } finally {
    await context.close();
  }
});
