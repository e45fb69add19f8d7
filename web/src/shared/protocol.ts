// The message shapes of Kefu's realtime protocol (docs/realtime.md §4), shared by the widget and the workspace.

export interface Sender {
  kind: 'visitor' | 'agent' | 'system';
  id: string | null;
  name: string;
}

/**
 * Whether a reply Kefu delivers to another channel (email, WeChat, SMS, an API integration) went out; `error` is
 * the refusing server's words. `delivered` only where the channel reports it (SMS status callbacks: pending →
 * sent → delivered, or failed with the carrier's reason).
 */
export interface Delivery {
  status: 'pending' | 'sent' | 'delivered' | 'failed';
  error: string | null;
}

export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  sender: Sender;
  content: string;
  private: boolean;
  client_id?: string;
  created_at: string;
  /** Only on replies Kefu delivers by email; settled later by a message:updated push (agents only). */
  delivery?: Delivery | null;
  /** Files that came with it (email attachments); download at /api/v1/attachments/{id}. */
  attachments?: Attachment[];
  /** For a mail: its subject, and whether a sanitised HTML version is at /api/v1/messages/{id}/html. */
  email?: EmailInfo;
}

export interface EmailInfo {
  subject: string;
  html: boolean;
}

export interface Attachment {
  id: string;
  filename: string;
  content_type: string;
  size: number;
}
