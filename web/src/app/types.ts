// The server's object shapes as the workspace uses them (docs/realtime.md §4 and /api/openapi.json).
// Fields marked "newer server" may be absent on an older binary: the UI falls back when they are.

export type Role = 'agent' | 'supervisor' | 'admin';
export type Presence = 'online' | 'away' | 'offline';
export type Lang = 'zh-CN' | 'en';
export type ConversationStatus = 'queued' | 'assigned' | 'closed';

export interface User {
  id: string;
  org_id: string;
  email: string;
  name: string;
  role: Role;
  capacity: number;
  active: boolean;
  presence: Presence;
  teams: string[];
  created_at: string;
  /** Newer server: the user's chosen language; null follows the browser. */
  locale?: Lang | null;
}

export type { Delivery, Message, Sender } from '../shared/protocol';

export interface Rating {
  score: number;
  comment: string | null;
  rated_at: string;
}

export interface Conversation {
  id: string;
  org_id: string;
  inbox_id: string;
  contact_id: string;
  status: ConversationStatus;
  assignee: { id: string; name: string } | null;
  team_id: string | null;
  last_seq: number;
  queue_position?: number;
  created_at: string;
  first_response_at: string | null;
  closed_at: string | null;
  updated_at: string;
  rating: Rating | null;
  visitor_read_seq: number;
  agent_read_seq: number;
  /** Newer server: the contact's current name. */
  contact_name?: string;
}

export interface Contact {
  id: string;
  org_id: string;
  inbox_id: string;
  name: string;
  email: string | null;
  phone: string | null;
  /** Newer server: the person this contact belongs to (the same across channels once merged; its own id if alone). */
  person_id?: string;
  attributes: {
    page?: { url: string; title?: string };
    referrer?: string;
    browser?: string;
    locale?: string;
    fields?: Record<string, string>;
    [key: string]: unknown;
  };
  last_agent_id: string | null;
  created_at: string;
  updated_at: string;
  /**
   * Newer server: who they are on their channel (a WeChat user's OpenID, an SMS sender's number, the contact id an
   * API integration gave); null for web and email contacts.
   */
  external_id?: string | null;
}

export interface Team {
  id: string;
  org_id: string;
  name: string;
  members: string[];
  created_at: string;
  /** Newer server: the calendar its tickets' SLA counts in (null or enabled=false = around the clock). */
  business_hours?: WorkingHours | null;
}

export type InboxKind = 'web' | 'email' | 'wechat' | 'wecom' | 'weibo' | 'twilio_sms' | 'aliyun_sms' | 'api';
export const INBOX_KINDS: InboxKind[] = ['web', 'email', 'wechat', 'wecom', 'weibo', 'twilio_sms', 'aliyun_sms', 'api'];

/**
 * How an inbox's connection to the outside is doing (email: the IMAP session; WeChat: whether WeChat calls the
 * webhook, "waiting" until its first signed call); the words are the server's.
 */
export interface ChannelState {
  status: 'connecting' | 'waiting' | 'ok' | 'error';
  message: string;
  since: string;
  /** SMS: the address Twilio signed its first call for (a proxy's, maybe); status callbacks go to it + `/status`. */
  webhook_url?: string;
}

export interface Inbox {
  id: string;
  org_id: string;
  kind: InboxKind;
  name: string;
  widget_token: string | null;
  settings: Record<string, unknown>;
  teams: string[];
  created_at: string;
  /** Newer server, admins only: the secret for Kefu.setUser's hash; an API inbox's API secret. */
  identity_secret?: string | null;
  /** Newer server: null for the web, and for an email inbox not looked at yet. */
  channel_state?: ChannelState | null;
  /**
   * Newer server: where the provider calls Kefu (`/hooks/wechat/{id}`, `/hooks/twilio_sms/{id}`, an API inbox's
   * `/hooks/api/{id}`); null for web and email.
   */
  webhook_path?: string | null;
}

/**
 * A channel's reply window for one conversation (WeChat: replies only within some hours of the customer's last
 * message, and only so many); null for channels without one.
 */
export interface ReplyWindow {
  open: boolean;
  /** When it closes (or closed); null when the customer has never written. */
  closes_at: string | null;
  /** Replies left before the customer must write again; null where the channel counts none (Weibo). */
  remaining: number | null;
  /** Why it is closed. */
  reason?: 'expired' | 'quota' | 'never_written';
}

export interface CannedReply {
  id: string;
  shortcut: string;
  content: string;
  owner_id: string | null;
  shared: boolean;
  created_at: string;
  updated_at: string;
}

export type Localised = { 'zh-CN': string; en: string };

export interface PreChatField {
  key: string;
  required: boolean;
  label: Localised;
}

export interface Span {
  from: string;
  to: string;
}

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

export interface WorkingHours extends Record<Day, Span[]> {
  enabled: boolean;
  timezone: string;
}

export interface WidgetSettings {
  color: string;
  position: 'right' | 'left';
  language: 'auto' | Lang;
  greeting: Localised;
  pre_chat: { enabled: boolean; fields: PreChatField[] };
  working_hours: WorkingHours;
  offline_message: Localised;
}

// ---- tickets (newer server) ----

export const TICKET_STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
export type SlaState = 'none' | 'ok' | 'due_soon' | 'breached';
export const SLA_TARGETS = ['first_response', 'next_response', 'resolution'] as const;
export type SlaTarget = (typeof SLA_TARGETS)[number];

export interface Ticket {
  id: string;
  org_id: string;
  number: number;
  subject: string;
  description: string;
  status: TicketStatus;
  priority: Priority;
  assignee: { id: string; name: string } | null;
  team_id: string | null;
  requester: { id: string; name: string; email: string | null; phone: string | null } | null;
  tags: string[];
  conversation_id: string | null;
  sla: {
    first_response_due: string | null;
    next_response_due: string | null;
    resolution_due: string | null;
    state: SlaState;
    breached: SlaTarget[];
  };
  first_response_at: string | null;
  solved_at: string | null;
  closed_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface TicketEvent {
  id: string;
  ticket_id: string;
  actor: { kind: 'agent' | 'contact' | 'system'; id: string | null; name: string };
  kind: 'created' | 'changed' | 'comment' | 'sla_breached';
  /** For sla_breached: the target that was missed. */
  field: string | null;
  old: string | null;
  new: string | null;
  content: string | null;
  private: boolean;
  created_at: string;
}

export interface SlaPolicy {
  priority: Priority;
  first_response_mins: number | null;
  next_response_mins: number | null;
  resolution_mins: number | null;
}

// ---- outbound webhooks (newer server; admins only) ----

/** A subscription of a URL to some of the organisation's events; `secret` signs every delivery. */
export interface Webhook {
  id: string;
  org_id: string;
  url: string;
  events: string[];
  secret: string;
  active: boolean;
  created_at: string;
  updated_at: string;
}

/** One event posted (or being posted) to a webhook, as its log shows it. */
export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  event: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** The HTTP status of the last try, when it got an answer. */
  response_status: number | null;
  last_error: string | null;
  next_attempt_at: string;
  created_at: string;
  updated_at: string;
}

/** Whose reply window a conversation has: WeChat's (Official Accounts and WeCom customer service) or Weibo's. */
export type WindowProvider = 'wechat' | 'weibo';
