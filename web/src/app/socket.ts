// The workspace's live state and its /agent Socket.IO connection: who is signed in, the conversation lists,
// each opened conversation's timeline, typing and presence, and the pushes that keep them current (tickets'
// pushes are handed to whichever ticket screen listens, and SLA breaches pop up for supervisors anywhere), the
// inboxes by id (to know an email or WeChat conversation), replies' delivery to another channel settling
// (message:updated), and a count of each conversation's message pushes (a WeChat composer asks its reply window
// again on each).
// Components read `store` and re-render on `subscribe`; every server rule lives in lists.ts and timeline.ts.
import { io, type Socket } from 'socket.io-client';
import { ApiError, getToken, rest, setToken } from './api';
import { LANG_KEY, pickLang, t } from './i18n';
import {
  applyToList,
  belongs,
  bump,
  contactName,
  listQuery,
  listsFor,
  mayAct,
  mergeConversation,
  oversees,
  type ListKey,
} from './lists';
import {
  addPending,
  applySync,
  dropPending,
  emptyTimeline,
  failPending,
  lastSeq,
  receive,
  update,
  type Timeline,
} from './timeline';
import type { Conversation, Inbox, Lang, Message, Presence, SlaTarget, Ticket, User } from './types';
import { chime } from '../shared/chime';

interface Ack {
  ok: boolean;
  error?: { code: string; message: string };
  [key: string]: unknown;
}

export interface Pop {
  key: number;
  conversation: Conversation;
}

export interface SlaPop {
  key: number;
  ticket: Ticket;
  target: SlaTarget;
}

/** A pushed ticket, or null after a reconnect: pushes are not replayed, so a listener refetches. */
export type TicketListener = (ticket: Ticket | null) => void;

export interface Preview {
  text: string;
  private: boolean;
}

type ListState = { items: Conversation[]; loading: boolean; error: string | null; more: boolean };

const ACK_MS = 10_000;
const TYPING_TTL_MS = 6_000;
const ASKED_NOTIFY_KEY = 'kefu.notifications_asked';

export class AckError extends Error {
  constructor(
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

const emptyList = (): ListState => ({ items: [], loading: true, error: null, more: false });

class Store {
  lang: Lang = pickLang(undefined, localStorage.getItem(LANG_KEY), navigator.language);
  me: User | null = null;
  presence: Presence = 'offline';
  /** Status changes on their way: each shows at once and is confirmed (or undone) by the server's answer. */
  presenceChanges = 0;
  /** False while the socket is down after having been up (or refused): the "Reconnecting…" banner. */
  online = true;
  lists: Record<ListKey, ListState> = { mine: emptyList(), queue: emptyList(), all: emptyList(), closed: emptyList() };
  conversations = new Map<string, Conversation>();
  previews = new Map<string, Preview>();
  timelines = new Map<string, Timeline>();
  timelineError = new Map<string, string>();
  typing = new Map<string, { name: string; timer: ReturnType<typeof setTimeout> }>();
  colleagues = new Map<string, Presence>();
  /**
   * Per conversation, how many message:new / message:updated it has had (and reconnects, which may have missed
   * some): what may move its reply window.
   */
  messageTicks = new Map<string, number>();
  /** Every inbox by id, loaded once and again when a conversation names one not known yet. */
  inboxes = new Map<string, Inbox>();
  pops: Pop[] = [];
  slaPops: SlaPop[] = [];
  path = location.pathname;
  /** Until the stored token has been checked: a splash instead of a flash of the login page. */
  booting = true;

  private socket: Socket | null = null;
  private listeners = new Set<() => void>();
  private ticketListeners = new Set<TicketListener>();
  private scheduled = false;
  private syncing = new Map<string, Promise<void>>();
  private syncAgain = new Set<string>();
  private readSent = new Map<string, number>();
  private popKey = 0;
  private leaving = false;
  private inboxLoad: Promise<void> = Promise.resolve();
  private inboxMisses = new Set<string>();

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The ticket screens live in their own chunk; they hear ticket pushes through this while mounted. */
  onTicket(fn: TicketListener): () => void {
    this.ticketListeners.add(fn);
    return () => this.ticketListeners.delete(fn);
  }

  private ticketPushed(ticket: Ticket | null) {
    for (const fn of this.ticketListeners) fn(ticket);
  }

  /** Many pushes can land in one tick (e.g. a reconnect's sync); one render covers them. */
  changed() {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      for (const fn of this.listeners) fn();
    });
  }

  // ---- routing (a tiny pathname router: /app/, /app/c/<id>, /app/admin/<tab>, /app/login) ----

  navigate(path: string, replace = false) {
    if (path === this.path) return;
    if (replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    this.path = path;
    this.onRoute();
    this.changed();
  }

  get selectedId(): string | null {
    const m = this.path.match(/^\/app\/c\/([0-9a-f-]{36})/);
    return m ? m[1] : null;
  }

  select(id: string | null) {
    this.navigate(id ? `/app/c/${id}` : '/app/');
  }

  onRoute() {
    const id = this.selectedId;
    if (!id || !this.me) return;
    if (!this.conversations.has(id)) {
      rest
        .conversation(id)
        .then(({ conversation }) => this.upsert(conversation))
        .catch((e: ApiError) => {
          this.timelineError.set(id, e.message);
          this.changed();
        });
    }
    if (!this.timelines.has(id)) void this.catchUp(id);
    this.markRead();
  }

  // ---- language ----

  setLang(lang: Lang) {
    this.lang = lang;
    localStorage.setItem(LANG_KEY, lang);
    document.documentElement.lang = lang;
    this.changed();
    // Older servers have no locale on users yet: the choice then lives in this browser only.
    if (this.me) rest.setLocale(lang).then(({ user }) => this.setMe(user), () => {});
  }

  // ---- session ----

  async boot() {
    document.documentElement.lang = this.lang;
    addEventListener('popstate', () => {
      this.path = location.pathname;
      this.onRoute();
      this.changed();
    });
    document.addEventListener('visibilitychange', () => this.markRead());
    addEventListener('focus', () => this.markRead());
    try {
      if (!getToken()) return this.toLogin();
      const { user } = await rest.me();
      this.signedIn(user);
    } catch (e) {
      // A 401 already went to the login page (api.ts); anything else, e.g. the server being down, too.
      if (!(e instanceof ApiError) || e.status !== 401) this.toLogin();
    } finally {
      this.booting = false;
      this.changed();
    }
  }

  private setMe(user: User) {
    this.me = user;
    if (user.locale) {
      this.lang = pickLang(user.locale, null, navigator.language);
      localStorage.setItem(LANG_KEY, this.lang);
      document.documentElement.lang = this.lang;
    }
    this.changed();
  }

  signedIn(user: User, token?: string) {
    if (token) setToken(token);
    this.setMe(user);
    this.presence = user.presence;
    if (this.path === '/app/login' || !this.path.startsWith('/app/')) this.navigate('/app/', true);
    this.connect();
    this.onRoute();
  }

  toLogin() {
    this.reset();
    setToken(null);
    this.navigate('/app/login', true);
    this.changed();
  }

  async logout() {
    this.leaving = true;
    await rest.logout().catch(() => {});
    this.toLogin();
  }

  private reset() {
    this.socket?.disconnect();
    this.socket = null;
    this.me = null;
    this.online = true;
    this.lists = { mine: emptyList(), queue: emptyList(), all: emptyList(), closed: emptyList() };
    this.conversations.clear();
    this.previews.clear();
    this.timelines.clear();
    this.timelineError.clear();
    this.messageTicks.clear();
    this.readSent.clear();
    for (const { timer } of this.typing.values()) clearTimeout(timer);
    this.typing.clear();
    this.pops = [];
    this.slaPops = [];
    this.inboxes.clear();
    this.inboxMisses.clear();
  }

  // ---- the socket ----

  private connect() {
    this.leaving = false;
    const socket = io('/agent', { auth: (cb) => cb({ token: getToken() ?? '' }) });
    this.socket = socket;
    socket.on('connect', () => {
      this.online = true;
      this.changed();
      // Pushes are not replayed: whatever happened while away comes from REST and sync (docs/realtime.md §11.2).
      void this.refreshLists();
      for (const id of this.timelines.keys()) {
        // What was missed may have moved its reply window too.
        this.tick(id);
        void this.catchUp(id);
      }
      // An inbox list that failed to load (the server was down) is asked for again on the next render.
      this.inboxMisses.clear();
      this.ticketPushed(null);
    });
    socket.on('disconnect', (reason) => {
      if (this.leaving) return;
      this.online = false;
      this.changed();
      // The server closed it (an admin changed this user): it is not retried on its own (§6.1).
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.on('connect_error', (err) => {
      if (err.message.startsWith('unauthorized')) return this.toLogin();
      this.online = false;
      this.changed();
      // A refusal by the server (not a network failure) is not retried by socket.io-client itself.
      if (!socket.active) setTimeout(() => this.socket === socket && socket.connect(), 3000);
    });
    socket.on('session', ({ user }: { user: User }) => {
      this.setMe({ ...user, locale: user.locale === undefined ? this.me?.locale : user.locale });
      this.presence = user.presence;
      this.changed();
    });
    socket.on('presence', ({ agent_id, status }: { agent_id: string; status: Presence }) => {
      this.colleagues.set(agent_id, status);
      if (agent_id === this.me?.id) this.presence = status;
      this.changed();
    });
    socket.on('conversation:updated', ({ conversation }: { conversation: Conversation }) => this.upsert(conversation));
    socket.on('conversation:assigned', ({ conversation }: { conversation: Conversation }) => {
      this.upsert(conversation);
      if (conversation.assignee?.id !== this.me?.id) return; // supervisors hear every assignment
      // Earlier messages (e.g. sent while queued) were not pushed to the new assignee.
      if (this.timelines.has(conversation.id)) void this.catchUp(conversation.id);
      this.announce(conversation);
    });
    socket.on('ticket:updated', ({ ticket }: { ticket: Ticket }) => this.ticketPushed(ticket));
    socket.on('ticket:sla_breached', ({ ticket, target }: { ticket: Ticket; target: SlaTarget }) => {
      this.ticketPushed(ticket);
      if (this.me && oversees(this.me)) this.announceBreach(ticket, target);
    });
    socket.on('message:new', ({ message }: { message: Message }) => this.onMessage(message));
    // A reply's delivery to its channel settled (sent, or refused with the provider's reason), or a customer's
    // file (a WeChat picture, a voice note) was fetched after its "[image]" line: replace it by id.
    socket.on('message:updated', ({ message }: { message: Message }) => {
      this.tick(message.conversation_id);
      const t = this.timelines.get(message.conversation_id);
      if (!t) return;
      const next = update(t, message);
      if (next === t) return;
      this.timelines.set(message.conversation_id, next);
      this.changed();
    });
    socket.on('typing', (p: { conversation_id: string; sender: { kind: string; name: string }; is_typing: boolean }) => {
      if (p.sender.kind !== 'visitor') return;
      const old = this.typing.get(p.conversation_id);
      if (old) clearTimeout(old.timer);
      if (p.is_typing) {
        const timer = setTimeout(() => {
          this.typing.delete(p.conversation_id);
          this.changed();
        }, TYPING_TTL_MS);
        this.typing.set(p.conversation_id, { name: p.sender.name, timer });
      } else this.typing.delete(p.conversation_id);
      this.changed();
    });
    socket.on('conversation:read', (p: { conversation_id: string; reader: string; seq: number }) => {
      const c = this.conversations.get(p.conversation_id);
      if (c && p.reader === 'visitor') this.upsert({ ...c, visitor_read_seq: Math.max(c.visitor_read_seq, p.seq) });
    });
  }

  private async call(event: string, payload: unknown): Promise<Ack> {
    if (!this.socket) throw new AckError('offline', 'not connected');
    let res: Ack;
    try {
      res = await this.socket.timeout(ACK_MS).emitWithAck(event, payload);
    } catch {
      throw new AckError('timeout', 'no answer from the server');
    }
    if (!res.ok) throw new AckError(res.error?.code ?? 'error', res.error?.message ?? 'error');
    return res;
  }

  // ---- lists ----

  async refreshLists() {
    const me = this.me;
    if (!me) return;
    await Promise.all(
      listsFor(me).map(async (key) => {
        this.lists[key] = { ...this.lists[key], loading: true, error: null };
        try {
          const items: Conversation[] = [];
          let cursor: string | null = null;
          // Open lists are bounded by capacity and the queue; the closed list shows the latest page only.
          const pages = key === 'closed' ? 1 : 10;
          let more = false;
          for (let page = 0; page < pages; page++) {
            const res = await rest.conversations({ ...listQuery(key, me), limit: '100', ...(cursor ? { cursor } : {}) });
            items.push(...res.conversations);
            cursor = res.next_cursor;
            more = !!cursor;
            if (!cursor) break;
          }
          for (const c of items) this.conversations.set(c.id, mergeConversation(this.conversations.get(c.id), c));
          const merged = items.map((c) => this.conversations.get(c.id)!).filter((c) => belongs(key, c, me));
          this.lists[key] = { items: merged, loading: false, error: null, more };
          this.lists[key].items = merged.reduce((list, c) => applyToList(key, list, c, me), [] as Conversation[]);
        } catch (e) {
          this.lists[key] = { ...this.lists[key], loading: false, error: (e as Error).message };
        }
        this.changed();
      }),
    );
  }

  upsert(conversation: Conversation) {
    const me = this.me;
    if (!me) return;
    const c = mergeConversation(this.conversations.get(conversation.id), conversation);
    this.conversations.set(c.id, c);
    for (const key of listsFor(me)) {
      const list = this.lists[key];
      const items = applyToList(key, list.items, c, me);
      if (items !== list.items) this.lists[key] = { ...list, items };
    }
    if (c.status === 'closed' && this.typing.has(c.id)) {
      clearTimeout(this.typing.get(c.id)!.timer);
      this.typing.delete(c.id);
    }
    this.changed();
  }

  private tick(id: string) {
    this.messageTicks.set(id, (this.messageTicks.get(id) ?? 0) + 1);
    this.changed();
  }

  private onMessage(message: Message) {
    const id = message.conversation_id;
    this.tick(id);
    const t = this.timelines.get(id);
    if (t) {
      const { timeline, gap } = receive(t, message);
      this.timelines.set(id, timeline);
      if (gap) void this.catchUp(id);
    }
    this.previews.set(id, { text: message.content, private: message.private });
    if (message.sender.kind === 'visitor' && this.typing.has(id)) {
      clearTimeout(this.typing.get(id)!.timer);
      this.typing.delete(id);
    }
    const c = this.conversations.get(id);
    if (c) this.upsert(bump(c, message.seq, message.created_at));
    else
      rest.conversation(id).then(
        ({ conversation }) => this.upsert(conversation),
        () => {},
      );
    this.markRead();
    this.changed();
  }

  // ---- inboxes ----

  /**
   * The inbox a conversation came in by, or undefined until it is known. An id not seen yet (an inbox an admin
   * added since) reloads the list, once per id, so a miss is not asked again on every render.
   */
  inbox(id: string): Inbox | undefined {
    const known = this.inboxes.get(id);
    if (known || !this.me || this.inboxMisses.has(id)) return known;
    this.inboxMisses.add(id);
    void this.loadInboxes();
    return undefined;
  }

  private loadInboxes() {
    // Chained, not shared: a load already on its way may have left before the inbox asked about existed.
    this.inboxLoad = this.inboxLoad.then(() =>
      rest.inboxes().then(
        ({ inboxes }) => {
          for (const i of inboxes) this.inboxes.set(i.id, i);
          this.changed();
        },
        () => {},
      ),
    );
  }

  // ---- timelines ----

  /** Syncs a conversation from its cursor, page after page; concurrent calls share one run and repeat once. */
  catchUp(id: string): Promise<void> {
    const running = this.syncing.get(id);
    if (running) {
      this.syncAgain.add(id);
      return running;
    }
    const run = (async () => {
      try {
        do {
          this.syncAgain.delete(id);
          for (;;) {
            const t = this.timelines.get(id) ?? emptyTimeline();
            const res = await this.call('sync', { conversation_id: id, after_seq: t.cursor });
            const { timeline, more } = applySync(
              this.timelines.get(id) ?? emptyTimeline(),
              res.messages as Message[],
              res.up_to_seq as number,
            );
            this.timelines.set(id, timeline);
            this.timelineError.delete(id);
            const last = timeline.messages[timeline.messages.length - 1];
            if (last && !this.previews.has(id)) this.previews.set(id, { text: last.content, private: last.private });
            this.changed();
            if (!more) break;
          }
        } while (this.syncAgain.has(id));
        this.markRead();
      } catch (e) {
        // Taken away from a plain agent, say: only the open conversation needs to say so.
        if ((e as AckError).code === 'forbidden' && id !== this.selectedId) this.timelines.delete(id);
        else this.timelineError.set(id, (e as Error).message);
        this.changed();
      } finally {
        this.syncing.delete(id);
      }
    })();
    this.syncing.set(id, run);
    return run;
  }

  /** The open conversation, seen on a visible page, moves the agent side's read position (docs/realtime.md §6.4). */
  markRead() {
    const id = this.selectedId;
    const me = this.me;
    if (!id || !me || document.visibilityState !== 'visible' || !this.socket?.connected) return;
    const c = this.conversations.get(id);
    const t = this.timelines.get(id);
    if (!c || !t || !mayAct(c, me)) return;
    const seq = lastSeq(t);
    if (seq <= c.agent_read_seq || seq <= (this.readSent.get(id) ?? 0)) return;
    this.readSent.set(id, seq);
    this.call('conversation:read', { conversation_id: id, seq }).then(
      (res) => {
        const now = this.conversations.get(id);
        if (now) this.upsert({ ...now, agent_read_seq: Math.max(now.agent_read_seq, res.seq as number) });
      },
      () => this.readSent.delete(id),
    );
  }

  // ---- actions ----

  /**
   * Sends a reply or note, shown as pending until the ack; a refusal leaves it marked failed (with Retry) and
   * resolves to the refusal's code (e.g. `reply_window_closed`), null when it was taken.
   */
  async send(conversationId: string, content: string, isPrivate: boolean, clientId: string = crypto.randomUUID()): Promise<string | null> {
    const t = this.timelines.get(conversationId) ?? emptyTimeline();
    this.timelines.set(conversationId, addPending(t, { client_id: clientId, content, private: isPrivate }));
    this.changed();
    try {
      const res = await this.call('message:send', {
        conversation_id: conversationId,
        client_id: clientId,
        content,
        private: isPrivate,
      });
      this.onMessage(res.message as Message);
      this.timelines.set(conversationId, dropPending(this.timelines.get(conversationId)!, clientId));
      this.changed();
      return null;
    } catch (e) {
      this.timelines.set(conversationId, failPending(this.timelines.get(conversationId)!, clientId, (e as Error).message));
      this.changed();
      return (e as AckError).code ?? 'error';
    }
  }

  /**
   * Sends a file as a message of its own; the answer and the message:new push, whichever comes first, show it
   * once (merged by id). Rejects with the server's ApiError (e.g. 422 naming what the channel takes).
   */
  async sendFile(conversationId: string, file: File, isPrivate: boolean, clientId: string): Promise<void> {
    const { message } = await rest.sendFile(conversationId, file, clientId, isPrivate);
    this.onMessage(message);
  }

  retry(conversationId: string, clientId: string) {
    const p = this.timelines.get(conversationId)?.pending.find((x) => x.client_id === clientId);
    if (p) void this.send(conversationId, p.content, p.private, clientId);
  }

  discard(conversationId: string, clientId: string) {
    const t = this.timelines.get(conversationId);
    if (t) this.timelines.set(conversationId, dropPending(t, clientId));
    this.changed();
  }

  private typingSent = new Map<string, number>();
  /** true at most every 3 s (the widget hides the indicator after 6 s without one), false once. */
  setTyping(conversationId: string, isTyping: boolean) {
    if (!this.socket?.connected) return;
    const last = this.typingSent.get(conversationId) ?? 0;
    if (isTyping ? Date.now() - last < 3000 : last === 0) return;
    this.typingSent.set(conversationId, isTyping ? Date.now() : 0);
    // Stale typing indicators are not worth buffering or retrying.
    this.socket.emit('typing', { conversation_id: conversationId, is_typing: isTyping }, () => {});
  }

  private async conversationAction(event: string, payload: Record<string, unknown>) {
    const res = await this.call(event, payload);
    this.upsert(res.conversation as Conversation);
    return res.conversation as Conversation;
  }
  close = (id: string) => this.conversationAction('conversation:close', { conversation_id: id });
  reopen = (id: string) => this.conversationAction('conversation:reopen', { conversation_id: id });
  transferToAgent = (id: string, agentId: string) =>
    this.conversationAction('conversation:transfer', { conversation_id: id, to_agent_id: agentId });
  transferToTeam = (id: string, teamId: string) =>
    this.conversationAction('conversation:transfer', { conversation_id: id, to_team_id: teamId });

  async setStatus(status: Presence) {
    // Asked on this user gesture, once: browsers ignore permission prompts that no click started.
    if (status === 'online' && 'Notification' in window && Notification.permission === 'default' && !localStorage.getItem(ASKED_NOTIFY_KEY)) {
      localStorage.setItem(ASKED_NOTIFY_KEY, '1');
      void Notification.requestPermission().catch(() => {});
    }
    const previous = this.presence;
    this.presence = status;
    this.presenceChanges += 1;
    this.changed();
    try {
      const res = await this.call('status:set', { status });
      this.presence = res.status as Presence;
    } catch (e) {
      this.presence = previous;
      throw e;
    } finally {
      this.presenceChanges -= 1;
      this.changed();
    }
  }

  // ---- new assignment: toast, chime, desktop notification ----

  private announce(c: Conversation) {
    const pop = { key: ++this.popKey, conversation: c };
    this.pops = [...this.pops.filter((p) => p.conversation.id !== c.id), pop].slice(-3);
    setTimeout(() => this.dismiss(pop.key), 12_000);
    chime([660, 990]);
    if ('Notification' in window && Notification.permission === 'granted' && !document.hasFocus()) {
      try {
        const name = contactName(c, t(this.lang).visitor);
        const n = new Notification('Kefu', { body: t(this.lang).newConversation(name), tag: c.id });
        n.onclick = () => {
          focus();
          this.select(c.id);
          n.close();
        };
      } catch {
        // Some browsers allow notifications only from a service worker: the toast still shows.
      }
    }
    this.changed();
  }

  private announceBreach(ticket: Ticket, target: SlaTarget) {
    const pop = { key: ++this.popKey, ticket, target };
    this.slaPops = [...this.slaPops.filter((p) => p.ticket.id !== ticket.id || p.target !== target), pop].slice(-3);
    setTimeout(() => this.dismissBreach(pop.key), 20_000);
    chime([880, 440]);
    this.changed();
  }

  dismissBreach(key: number) {
    const before = this.slaPops.length;
    this.slaPops = this.slaPops.filter((p) => p.key !== key);
    if (this.slaPops.length !== before) this.changed();
  }

  dismiss(key: number) {
    const before = this.pops.length;
    this.pops = this.pops.filter((p) => p.key !== key);
    if (this.pops.length !== before) this.changed();
  }
}


export const store = new Store();
