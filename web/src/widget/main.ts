// The visitor's chat, running in the iframe Kefu serves at /widget/. It connects to the /visitor namespace,
// remembers the visitor (token, conversation, draft) in localStorage, and after every
// (re)connect syncs from the cursor, so nothing is missed or shown twice. Message text is only ever set as text.
import { io, Socket } from 'socket.io-client';
import { pickLang, t } from './i18n';
import { Timeline, type Message } from './conversation';
import { chime } from '../shared/chime';
import './style.css';

interface Conversation {
  id: string;
  status: 'queued' | 'assigned' | 'closed';
  assignee: { id: string; name: string } | null;
  queue_position?: number;
  expected_wait_secs?: number;
  rating?: { score: number; comment: string | null } | null;
  agent_read_seq?: number;
}

interface Ack<T> {
  ok: boolean;
  error?: { code: string; message: string };
  message?: Message;
  messages?: Message[];
  up_to_seq?: number;
  data?: T;
}

interface PreChatField {
  key: string;
  required: boolean;
  label: { 'zh-CN': string; en: string };
}

interface WidgetConfig {
  name: string;
  color: string;
  language: 'auto' | 'zh-CN' | 'en';
  greeting: { 'zh-CN': string; en: string };
  pre_chat: { enabled: boolean; fields: PreChatField[] };
  offline_message: { 'zh-CN': string; en: string };
  within_hours: boolean;
  agents_online: boolean;
}

const params = new URLSearchParams(location.search);
const widgetToken = params.get('token') ?? '';
// The inbox's settings: colour, language, greeting. Without them (an old token, a network hiccup) the defaults do.
const config: WidgetConfig | null = await fetch(`/api/v1/widget/config?token=${encodeURIComponent(widgetToken)}`)
  .then((r) => (r.ok ? r.json() : null))
  .catch(() => null);
const configured = config && config.language !== 'auto' ? config.language : null;
const lang = pickLang(params.get('lang') ?? configured, navigator.language);
const text = t(lang);
document.documentElement.lang = lang;
if (config) document.documentElement.style.setProperty('--kefu-color', config.color);
const greetingText = config?.greeting[lang] || text.greeting;
const storeKey = `kefu:${widgetToken}`;

interface Saved {
  visitorToken?: string;
  conversationId?: string;
  draft?: string;
  /** The pre-chat form was filled in (for this widget token). */
  identified?: boolean;
}

/** Who the host page says the visitor is (Kefu.setUser), signed by the site's server; verified by Kefu. */
interface Identity {
  id: string;
  name?: string;
  email?: string;
  hash: string;
}

// The loader hands over setUser/reset made before this frame existed in the fragment (never sent to a server).
const handover = new URLSearchParams(location.hash.slice(1));
if (handover.has('reset')) localStorage.removeItem(storeKey);
let identity: Identity | null = handover.get('identity') ? JSON.parse(handover.get('identity')!) : null;

const saved: Saved = JSON.parse(localStorage.getItem(storeKey) ?? '{}');
const save = () => localStorage.setItem(storeKey, JSON.stringify(saved));

const app = document.getElementById('app')!;
app.innerHTML = `
  <header><h1></h1><button type="button" class="close" aria-label=""></button></header>
  <div class="status"></div>
  <div class="banner"></div>
  <div class="messages" role="log" aria-live="polite"></div>
  <div class="typing"></div>
  <form><textarea rows="1"></textarea><button type="submit"></button></form>`;
const $ = <T extends HTMLElement>(sel: string) => app.querySelector(sel) as T;
$('h1').textContent = text.title;
$<HTMLButtonElement>('.close').textContent = '×';
$<HTMLButtonElement>('.close').setAttribute('aria-label', text.close);
$<HTMLButtonElement>('form button').textContent = text.send;
const input = $<HTMLTextAreaElement>('textarea');
input.placeholder = text.placeholder;
input.value = saved.draft ?? '';
const list = $<HTMLDivElement>('.messages');
const composer = $<HTMLFormElement>('form');
const statusLine = $<HTMLDivElement>('.status');
const banner = $<HTMLDivElement>('.banner');
const typingLine = $<HTMLDivElement>('.typing');
banner.textContent = text.reconnecting;

let timeline = new Timeline(saved.conversationId ?? null);
// History is fetched on every page load; the cursor only spares re-fetching it on reconnects within one load.
let cursor = 0;
let conversation: Conversation | null = null;
let isOpen = true;
let unread = 0;
/** How far an agent has read: the visitor's messages up to here show as read. */
let agentReadSeq = 0;
let readSent = 0;

const transports = params.get('transports') === 'polling' ? ['polling'] : ['polling', 'websocket'];
const page = { url: params.get('page'), title: params.get('title'), referrer: params.get('referrer') };
const socket: Socket = io('/visitor', {
  transports,
  auth: (cb) =>
    cb({
      widget_token: widgetToken,
      ...(saved.visitorToken ? { visitor_token: saved.visitorToken } : {}),
      page,
      locale: navigator.language,
      ...(identity ? { identity } : {}),
    }),
});

function render() {
  list.replaceChildren();
  const greeting = document.createElement('div');
  greeting.className = 'msg greeting';
  const gBody = document.createElement('div');
  gBody.className = 'body';
  gBody.textContent = greetingText;
  greeting.append(gBody);
  list.append(greeting);
  for (const m of timeline.messages) {
    const mine = m.sender.kind === 'visitor';
    const el = bubble(mine, m.sender.name, m.content);
    if (mine) {
      const tick = document.createElement('div');
      tick.className = 'tick';
      tick.textContent = m.seq <= agentReadSeq ? `✓✓ ${text.ticksRead}` : `✓ ${text.ticksSent}`;
      el.append(tick);
    }
    list.append(el);
  }
  for (const p of timeline.pending) {
    const el = bubble(true, text.you, p.content);
    el.classList.add('pending');
    if (p.failed) {
      const failed = document.createElement('div');
      failed.className = 'failed';
      failed.textContent = `${text.failed}: ${p.failed}`;
      const retry = document.createElement('button');
      retry.type = 'button';
      retry.textContent = text.retry;
      retry.onclick = () => {
        p.failed = undefined;
        deliver(p.client_id, p.content);
        render();
      };
      failed.append(retry);
      el.append(failed);
    }
    list.append(el);
  }
  if (conversation?.status === 'closed' && timeline.messages.length > 0) list.append(survey(conversation));
  list.scrollTop = list.scrollHeight;
  renderStatus();
  markRead();
}

/** Tells the agent how far the visitor has read, when the chat is open and in view. */
function markRead() {
  const last = timeline.messages.at(-1)?.seq ?? 0;
  if (!isOpen || document.visibilityState !== 'visible' || !timeline.conversationId || last <= readSent) return;
  readSent = last;
  socket.emit('conversation:read', { conversation_id: timeline.conversationId, seq: last });
}


/** After the agent closes: 1-5 stars and a comment, stored on the conversation. */
function survey(c: Conversation): HTMLElement {
  const box = document.createElement('div');
  box.className = 'survey';
  if (c.rating) {
    box.textContent = `${'★'.repeat(c.rating.score)}${'☆'.repeat(5 - c.rating.score)} ${text.rateThanks}`;
    return box;
  }
  const title = document.createElement('div');
  title.textContent = text.rateTitle;
  const stars = document.createElement('div');
  stars.className = 'stars';
  let score = 0;
  const buttons = [1, 2, 3, 4, 5].map((n) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = '☆';
    b.setAttribute('aria-label', text.star(n));
    b.onclick = () => {
      score = n;
      buttons.forEach((x, i) => (x.textContent = i < n ? '★' : '☆'));
      submit.disabled = false;
    };
    return b;
  });
  stars.append(...buttons);
  const comment = document.createElement('textarea');
  comment.placeholder = text.rateComment;
  comment.maxLength = 1000;
  const submit = document.createElement('button');
  submit.type = 'button';
  submit.className = 'rate';
  submit.textContent = text.rateSubmit;
  submit.disabled = true;
  submit.onclick = async () => {
    submit.disabled = true;
    const ack: Ack<never> & { conversation?: Conversation } = await socket
      .timeout(10000)
      .emitWithAck('conversation:rate', { conversation_id: c.id, score, comment: comment.value })
      .catch(() => ({ ok: false }));
    if (ack.ok && ack.conversation) {
      adopt(ack.conversation);
      render();
    } else submit.disabled = false;
  };
  box.append(title, stars, comment, submit);
  return box;
}

function bubble(mine: boolean, who: string, content: string): HTMLElement {
  const el = document.createElement('div');
  el.className = mine ? 'msg mine' : 'msg';
  if (!mine) {
    const name = document.createElement('div');
    name.className = 'who';
    name.textContent = who;
    el.append(name);
  }
  const body = document.createElement('div');
  body.className = 'body';
  body.textContent = content;
  el.append(body);
  return el;
}

function renderStatus() {
  if (!conversation) statusLine.textContent = '';
  else if (conversation.status === 'closed') statusLine.textContent = text.closed;
  else if (conversation.status === 'assigned' && conversation.assignee)
    statusLine.textContent = text.assigned(conversation.assignee.name);
  else {
    const place =
      conversation.queue_position && conversation.queue_position > 1
        ? text.queued(conversation.queue_position)
        : text.queuedFirst;
    // Whole minutes, at least one: a countdown in seconds would promise a precision nobody has.
    const wait = conversation.expected_wait_secs;
    statusLine.textContent = wait ? `${place}${text.expectedWait(Math.max(1, Math.ceil(wait / 60)))}` : place;
  }
}

function adopt(c: Conversation) {
  if (timeline.conversationId !== c.id) {
    timeline = new Timeline(c.id);
    cursor = 0;
    saved.conversationId = c.id;
    save();
  }
  const queued = c.status === 'queued';
  const position = c.queue_position ?? (queued ? conversation?.queue_position : undefined);
  const wait = c.expected_wait_secs ?? (queued && c.queue_position === undefined ? conversation?.expected_wait_secs : undefined);
  agentReadSeq = Math.max(c.id === conversation?.id ? agentReadSeq : 0, c.agent_read_seq ?? 0);
  conversation = { ...c, queue_position: position, expected_wait_secs: wait };
}

async function sync() {
  if (!timeline.conversationId) return;
  for (;;) {
    const ack: Ack<never> = await socket.timeout(10000).emitWithAck('sync', {
      conversation_id: timeline.conversationId,
      after_seq: cursor,
    });
    if (!ack.ok) return;
    timeline.add(ack.messages ?? []);
    cursor = Math.max(cursor, ack.up_to_seq ?? cursor);
    if ((ack.messages ?? []).length < 1000) break;
  }
  render();
}

function received(m: Message) {
  if (!timeline.conversationId) adopt({ id: m.conversation_id, status: 'queued', assignee: null });
  if (m.conversation_id !== timeline.conversationId) return;
  const fresh = timeline.add([m]);
  if (m.seq === cursor + 1) {
    cursor = m.seq;
  } else if (m.seq > cursor + 1) {
    void sync();
  }
  for (const f of fresh) {
    if (f.sender.kind !== 'visitor') {
      parent.postMessage({ kefu: 'message', message: f }, '*');
      if (!isOpen || document.visibilityState !== 'visible') {
        parent.postMessage({ kefu: 'unread', unread: ++unread }, '*');
        chime();
      }
    }
  }
  render();
}

async function deliver(clientId: string, content: string) {
  try {
    const ack: Ack<never> = await socket.timeout(15000).emitWithAck('message:send', {
      client_id: clientId,
      content,
      ...(timeline.conversationId ? { conversation_id: timeline.conversationId } : {}),
    });
    if (ack.ok && ack.message) received(ack.message);
    else {
      const p = timeline.pending.find((x) => x.client_id === clientId);
      if (p) p.failed = ack.error?.message ?? 'error';
      render();
    }
  } catch {
    // No ack in time: kept pending, sent again with the same client_id once reconnected.
  }
}

/** The contact this chat is for: another one (a sign-in, a reset) starts an empty chat. */
let contactId: string | null = null;

interface Session {
  visitor_token: string;
  contact_id: string;
  conversations: Conversation[];
  identity: { verified: boolean; reason?: string } | null;
}

socket.on('session', async (session: Session) => {
  if (session.identity && !session.identity.verified) {
    console.warn(`[kefu] Kefu.setUser was ignored: ${session.identity.reason}`);
  }
  if (contactId && session.contact_id !== contactId) {
    timeline = new Timeline(null);
    cursor = 0;
    conversation = null;
    delete saved.conversationId;
    render();
  }
  contactId = session.contact_id;
  saved.visitorToken = session.visitor_token;
  save();
  const known = session.conversations.find((c) => c.id === timeline.conversationId);
  const latest = known ?? session.conversations.find((c) => c.status !== 'closed') ?? session.conversations[0];
  if (latest) adopt(latest);
  await sync();
  for (const p of timeline.pending.filter((x) => !x.failed)) void deliver(p.client_id, p.content);
});

socket.on('message:new', ({ message }: { message: Message }) => received(message));

socket.on('conversation:updated', ({ conversation: c }: { conversation: Conversation }) => {
  // Updates of an older conversation are not this chat's business; a first one tells which conversation opened.
  if (timeline.conversationId && c.id !== timeline.conversationId) return;
  adopt(c);
  render();
});

socket.on('conversation:queue_timeout', ({ conversation_id }: { conversation_id: string }) => {
  if (conversation_id !== timeline.conversationId) return;
  statusLine.textContent = text.timeout;
  if (!document.querySelector('.offline')) list.after(offlineForm(text.queueTimeoutLeave, false));
});

let typingTimer: ReturnType<typeof setTimeout> | undefined;
socket.on('typing', (e: { conversation_id: string; sender: { name: string }; is_typing: boolean }) => {
  if (e.conversation_id !== timeline.conversationId) return;
  typingLine.textContent = e.is_typing ? text.typing(e.sender.name) : '';
  clearTimeout(typingTimer);
  if (e.is_typing) typingTimer = setTimeout(() => (typingLine.textContent = ''), 6000);
});

socket.on('conversation:read', (e: { conversation_id: string; reader: string; seq: number }) => {
  if (e.conversation_id !== timeline.conversationId || e.reader !== 'agent') return;
  agentReadSeq = Math.max(agentReadSeq, e.seq);
  render();
});
document.addEventListener('visibilitychange', markRead);

/** Connections in a row the server refused: each retry waits longer, up to 30 s. */
let refusals = 0;
socket.on('disconnect', () => banner.classList.add('shown'));
socket.on('connect', () => {
  banner.classList.remove('shown');
  refusals = 0;
});
// A connection the server refused (its database busy while it restarts, say) is not retried by socket.io-client
// itself, unlike a network failure: without this the chat would stay away until the page is reloaded. An unknown
// widget token is a misconfigured site, which no retry mends.
socket.on('connect_error', (err: Error) => {
  banner.classList.add('shown');
  if (socket.active || err.message.startsWith('unauthorized')) return;
  refusals += 1;
  setTimeout(() => socket.connect(), Math.min(30_000, 1000 * 2 ** Math.min(refusals, 5)));
});

let lastTypingSent = 0;
input.addEventListener('input', () => {
  saved.draft = input.value;
  save();
  const now = Date.now();
  if (timeline.conversationId && socket.connected && now - lastTypingSent > 2000 && conversation?.status !== 'closed') {
    lastTypingSent = now;
    socket.emit('typing', { conversation_id: timeline.conversationId, is_typing: true });
  }
});

function send() {
  const content = input.value;
  if (!content.trim()) return;
  const clientId = crypto.randomUUID();
  timeline.pending.push({ client_id: clientId, content });
  input.value = '';
  saved.draft = '';
  save();
  render();
  if (conversation?.status === 'closed') {
    // Writing after a close starts a new conversation: follow the one the server opens.
    timeline = Object.assign(new Timeline(null), { pending: timeline.pending });
    conversation = null;
  }
  void deliver(clientId, content);
}

input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});
composer.addEventListener('submit', (e) => {
  e.preventDefault();
  send();
});
/** Before the first message, when the inbox asks for it: the visitor's contact details and custom fields. */
function preChatForm(fields: PreChatField[]): HTMLFormElement {
  const builtIn: Record<string, { label: string; type: string; autocomplete: string }> = {
    name: { label: text.fieldName, type: 'text', autocomplete: 'name' },
    email: { label: text.fieldEmail, type: 'email', autocomplete: 'email' },
    phone: { label: text.fieldPhone, type: 'tel', autocomplete: 'tel' },
  };
  const form = document.createElement('form');
  form.className = 'prechat';
  const title = document.createElement('p');
  title.textContent = text.preChatTitle;
  form.append(title);
  for (const field of fields) {
    const label = document.createElement('label');
    const known = builtIn[field.key];
    label.textContent = (known?.label ?? field.label[lang]) + (field.required ? ' *' : '');
    const input = document.createElement('input');
    input.name = field.key;
    input.type = known?.type ?? 'text';
    if (known) input.autocomplete = known.autocomplete as AutoFill;
    input.required = field.required;
    input.maxLength = 500;
    label.append(input);
    form.append(label);
  }
  const error = document.createElement('div');
  error.className = 'error';
  const submit = document.createElement('button');
  submit.type = 'submit';
  submit.textContent = text.preChatStart;
  form.append(error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries()) as Record<string, string>;
    const { name, email, phone, ...custom } = values;
    submit.disabled = true;
    const ack: Ack<never> = await socket
      .timeout(10000)
      .emitWithAck('visitor:identify', { name, email, phone, fields: custom })
      .catch(() => ({ ok: false, error: { code: 'timeout', message: text.reconnecting } }));
    submit.disabled = false;
    if (!ack.ok) {
      error.textContent = ack.error?.message ?? '';
      return;
    }
    saved.identified = true;
    save();
    form.replaceWith(composer);
    input.focus();
  });
  return form;
}

/**
 * The leave-a-message form (留言): outside working hours, when no agent is online, or (contact details only)
 * when the queue has timed out. It is saved as a conversation the team sees, with the email or phone to answer on.
 */
function offlineForm(intro: string, withMessage: boolean): HTMLFormElement {
  const form = document.createElement('form');
  form.className = 'offline';
  const p = document.createElement('p');
  p.textContent = intro;
  form.append(p);
  const field = (name: string, label: string, type: string) => {
    const l = document.createElement('label');
    l.textContent = label;
    const el = type === 'textarea' ? document.createElement('textarea') : document.createElement('input');
    el.name = name;
    if (el instanceof HTMLInputElement) el.type = type;
    el.maxLength = name === 'message' ? 10000 : 200;
    l.append(el);
    form.append(l);
    return el;
  };
  field('name', text.fieldName, 'text');
  field('email', text.fieldEmail, 'email');
  field('phone', text.fieldPhone, 'tel');
  const message = withMessage ? field('message', `${text.fieldMessage} *`, 'textarea') : null;
  if (message) message.required = true;
  const error = document.createElement('div');
  error.className = 'error';
  const submit = document.createElement('button');
  submit.type = 'submit';
  submit.textContent = withMessage ? text.leaveMessage : text.leaveContact;
  form.append(error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = Object.fromEntries(new FormData(form).entries()) as Record<string, string>;
    if (!v.email?.trim() && !v.phone?.trim()) {
      error.textContent = text.contactRequired;
      return;
    }
    submit.disabled = true;
    const fail = (ack: Ack<never>) => {
      error.textContent = ack.error?.message ?? text.failed;
      submit.disabled = false;
    };
    const who = { name: v.name || undefined, email: v.email || undefined, phone: v.phone || undefined };
    const identified: Ack<never> = await socket
      .timeout(10000)
      .emitWithAck('visitor:identify', who)
      .catch(() => ({ ok: false }));
    if (!identified.ok) return fail(identified);
    saved.identified = true;
    save();
    if (message) {
      const sent: Ack<never> = await socket
        .timeout(15000)
        .emitWithAck('message:send', { client_id: crypto.randomUUID(), content: v.message })
        .catch(() => ({ ok: false }));
      if (!sent.ok || !sent.message) return fail(sent);
      received(sent.message);
    }
    const thanks = document.createElement('div');
    thanks.className = 'offline thanks';
    thanks.textContent = text.offlineThanks;
    form.replaceWith(thanks);
    // The message is in a conversation now: the visitor may add to it, and an agent may answer there.
    if (withMessage) thanks.after(composer);
  });
  return form;
}

const nobodyNow = config && !(config.within_hours && config.agents_online);
if (nobodyNow && !saved.conversationId) {
  const words = config.offline_message[lang] || (config.within_hours ? text.noAgents : text.outsideHours);
  composer.replaceWith(offlineForm(words, true));
} else if (config?.pre_chat.enabled && config.pre_chat.fields.length > 0 && !saved.identified && !saved.conversationId) {
  composer.replaceWith(preChatForm(config.pre_chat.fields));
}

$<HTMLButtonElement>('.close').addEventListener('click', () => parent.postMessage({ kefu: 'close' }, '*'));
window.addEventListener('message', (e) => {
  if (e.source !== parent) return;
  if (e.data?.kefu === 'open') {
    isOpen = true;
    unread = 0;
    input.focus();
    markRead();
  }
  if (e.data?.kefu === 'close') isOpen = false;
  // A sign-in or sign-out on the host page: reconnect as that person (or as a new anonymous visitor).
  if (e.data?.kefu === 'identity' && JSON.stringify(e.data.identity) !== JSON.stringify(identity)) {
    identity = e.data.identity;
    socket.disconnect().connect();
  }
  if (e.data?.kefu === 'reset') {
    identity = null;
    for (const key of Object.keys(saved) as (keyof Saved)[]) delete saved[key];
    localStorage.removeItem(storeKey);
    socket.disconnect().connect();
  }
});

render();
parent.postMessage({ kefu: 'ready' }, '*');
