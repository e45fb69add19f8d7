// REST calls to /api/v1: the bearer token, JSON in and out (a file goes out as its raw bytes), and the server's
// stable error shape ({error: {code, message}}) turned into ApiError so every screen can show the server's own words.
import { uploadPath } from './files';
import type { CannedReply, Contact, Conversation, Inbox, InboxKind, Lang, Message, ReplyWindow, SlaPolicy, Team, Ticket, TicketEvent, TicketStatus, User, Webhook, WebhookDelivery, WorkingHours } from './types';

const TOKEN_KEY = 'kefu.token';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

let token: string | null = localStorage.getItem(TOKEN_KEY);
let onUnauthorized: () => void = () => {};

export const getToken = () => token;
export function setToken(value: string | null) {
  token = value;
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}
/** Called once by main.tsx: a 401 anywhere means the session ended, so the app goes back to the login page. */
export function handleUnauthorized(fn: () => void) {
  onUnauthorized = fn;
}

export function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  return request<T>(method, path, body !== undefined ? { type: 'application/json', data: JSON.stringify(body) } : undefined);
}

/** A file as the whole body, under its own type (none known: the server guesses from the name in the path). */
const upload = <T>(path: string, file: Blob): Promise<T> =>
  request<T>('POST', path, { type: file.type || 'application/octet-stream', data: file });

async function request<T>(method: string, path: string, body?: { type: string; data: BodyInit }): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: {
        ...(body ? { 'content-type': body.type } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body?.data,
    });
  } catch {
    throw new ApiError(0, 'network', 'network error');
  }
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data?.error;
    const apiError = new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.message ?? res.statusText);
    // The login form's own 401 (bad credentials) is an answer, not an ended session.
    if (res.status === 401 && path !== '/auth/login') onUnauthorized();
    throw apiError;
  }
  return data as T;
}

const q = (params: Record<string, string | boolean | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, String(v));
  return s.toString();
};

export interface ConversationPage {
  conversations: Conversation[];
  next_cursor: string | null;
}

export interface TicketPage {
  tickets: Ticket[];
  next_cursor: string | null;
}

export interface NewTicket {
  subject: string;
  description?: string;
  priority?: string;
  requester?: { name?: string; email?: string; phone?: string };
  assignee_id?: string;
  team_id?: string;
  tags?: string[];
}

export type TicketPatch = Partial<{ subject: string; status: string; priority: string; assignee_id: string | null; team_id: string | null; tags: string[] }>;

export const rest = {
  login: (email: string, password: string) =>
    api<{ token: string; user: User; csrf_token: string }>('POST', '/auth/login', { email, password }),
  logout: () => api<unknown>('POST', '/auth/logout'),
  me: () => api<{ user: User }>('GET', '/auth/me'),
  setLocale: (locale: Lang | null) => api<{ user: User }>('PATCH', '/auth/me', { locale }),

  conversations: (params: Record<string, string | boolean | undefined>) =>
    api<ConversationPage>('GET', `/conversations?${q(params)}`),
  conversation: (id: string) => api<{ conversation: Conversation }>('GET', `/conversations/${id}`),
  /** null for channels without a reply window (web, email). */
  replyWindow: (id: string) => api<{ reply_window: ReplyWindow | null }>('GET', `/conversations/${id}/reply_window`),
  /**
   * An agent's file as a message of its own (its content is the file's name), pushed and queued for the channel
   * like a reply: 422 attachment_not_supported names what the channel takes, 413 over 20 MB.
   */
  sendFile: (conversationId: string, file: File, clientId: string, isPrivate: boolean) =>
    upload<{ message: Message }>(uploadPath(conversationId, { filename: file.name, clientId, private: isPrivate }), file),

  contact: (id: string) => api<{ contact: Contact }>('GET', `/contacts/${id}`),
  updateContact: (id: string, patch: Partial<Pick<Contact, 'name' | 'email' | 'phone'>>) =>
    api<{ contact: Contact }>('PATCH', `/contacts/${id}`, patch),
  /** Contacts whose name, email, phone or channel id matches (1–100 characters), up to 20. */
  searchContacts: (q: string) => api<{ contacts: Contact[] }>('GET', `/contacts?q=${encodeURIComponent(q)}`),
  /** The contact's person: their contacts on every channel, this one included. */
  person: (id: string) => api<{ contacts: Contact[] }>('GET', `/contacts/${id}/person`),
  /** Makes `other` the same person as `id` (409 when it already is). */
  mergeContact: (id: string, other: string) => api<{ contacts: Contact[] }>('POST', `/contacts/${id}/person`, { contact_id: other }),
  /** Takes the contact out of its person (409 when it is not merged). */
  unlinkContact: (id: string) => api<{ contact: Contact }>('DELETE', `/contacts/${id}/person`),

  users: () => api<{ users: User[] }>('GET', '/users'),
  createUser: (body: { email: string; name: string; password: string; role: string; capacity: number }) =>
    api<{ user: User }>('POST', '/users', body),
  updateUser: (id: string, patch: Partial<{ name: string; role: string; capacity: number; active: boolean; password: string }>) =>
    api<{ user: User }>('PATCH', `/users/${id}`, patch),
  deactivateUser: (id: string) => api<{ user: User }>('POST', `/users/${id}/deactivate`),

  teams: () => api<{ teams: Team[] }>('GET', '/teams'),
  createTeam: (name: string) => api<{ team: Team }>('POST', '/teams', { name }),
  renameTeam: (id: string, name: string) => api<{ team: Team }>('PATCH', `/teams/${id}`, { name }),
  setBusinessHours: (id: string, business_hours: WorkingHours) => api<{ team: Team }>('PATCH', `/teams/${id}`, { business_hours }),
  deleteTeam: (id: string) => api<unknown>('DELETE', `/teams/${id}`),
  addMember: (id: string, userId: string) => api<unknown>('PUT', `/teams/${id}/members/${userId}`),
  removeMember: (id: string, userId: string) => api<unknown>('DELETE', `/teams/${id}/members/${userId}`),

  inboxes: () => api<{ inboxes: Inbox[] }>('GET', '/inboxes'),
  inbox: (id: string) => api<{ inbox: Inbox }>('GET', `/inboxes/${id}`),
  /** 422 invalid_input names the field in the server's words (e.g. "settings.imap.password is invalid: is required"). */
  createInbox: (body: { kind: InboxKind; name: string; teams: string[]; settings?: Record<string, unknown> }) =>
    api<{ inbox: Inbox }>('POST', '/inboxes', body),
  updateInbox: (id: string, patch: { name?: string; teams?: string[]; settings?: Record<string, unknown> }) =>
    api<{ inbox: Inbox }>('PATCH', `/inboxes/${id}`, patch),
  newIdentitySecret: (id: string) => api<{ inbox: Inbox }>('POST', `/inboxes/${id}/identity_secret`),

  cannedReplies: (search?: string) =>
    api<{ canned_replies: CannedReply[] }>('GET', `/canned_replies${search ? '?' + q({ q: search }) : ''}`),
  createCanned: (body: { shortcut: string; content: string; shared: boolean }) =>
    api<{ canned_reply: CannedReply }>('POST', '/canned_replies', body),
  updateCanned: (id: string, patch: { shortcut?: string; content?: string }) =>
    api<{ canned_reply: CannedReply }>('PATCH', `/canned_replies/${id}`, patch),
  deleteCanned: (id: string) => api<unknown>('DELETE', `/canned_replies/${id}`),

  tickets: (query: string) => api<TicketPage>('GET', `/tickets?${query}`),
  ticket: (id: string) => api<{ ticket: Ticket; events: TicketEvent[] }>('GET', `/tickets/${id}`),
  createTicket: (body: NewTicket) => api<{ ticket: Ticket }>('POST', '/tickets', body),
  updateTicket: (id: string, patch: TicketPatch) => api<{ ticket: Ticket }>('PATCH', `/tickets/${id}`, patch),
  comment: (id: string, content: string, isPrivate: boolean) =>
    api<{ event: TicketEvent }>('POST', `/tickets/${id}/comments`, { content, private: isPrivate }),
  bulkStatus: (ids: string[], status: TicketStatus) => api<{ tickets: Ticket[] }>('POST', '/tickets/bulk', { ids, status }),
  /** A chat becomes a ticket (409 conflict when it already is one: the message names its number). */
  convertToTicket: (conversationId: string) => api<{ ticket: Ticket }>('POST', `/conversations/${conversationId}/ticket`, {}),
  slaPolicies: () => api<{ policies: SlaPolicy[] }>('GET', '/sla_policies'),
  saveSlaPolicies: (policies: SlaPolicy[]) => api<{ policies: SlaPolicy[] }>('PUT', '/sla_policies', { policies }),

  // outbound webhooks (admins only: 403 for others; 404 on an older server)
  webhooks: () => api<{ webhooks: Webhook[] }>('GET', '/webhooks'),
  /** 422 invalid_input names `url` or `events` (e.g. a private address without KEFU_WEBHOOKS_ALLOW_PRIVATE). */
  createWebhook: (body: { url: string; events: string[]; active?: boolean }) => api<{ webhook: Webhook }>('POST', '/webhooks', body),
  updateWebhook: (id: string, patch: { url?: string; events?: string[]; active?: boolean }) => api<{ webhook: Webhook }>('PATCH', `/webhooks/${id}`, patch),
  deleteWebhook: (id: string) => api<unknown>('DELETE', `/webhooks/${id}`),
  rotateWebhookSecret: (id: string) => api<{ webhook: Webhook }>('POST', `/webhooks/${id}/rotate_secret`),
  /** Newest first, at most 50. */
  webhookDeliveries: (id: string) => api<{ deliveries: WebhookDelivery[] }>('GET', `/webhooks/${id}/deliveries`),
  retryWebhookDelivery: (id: string, deliveryId: string) =>
    api<{ delivery: WebhookDelivery }>('POST', `/webhooks/${id}/deliveries/${deliveryId}/retry`),
};
