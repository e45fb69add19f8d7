// The message shapes of Kefu's realtime protocol (docs/realtime.md §4), shared by the widget and the workspace.

export interface Sender {
  kind: 'visitor' | 'agent' | 'system';
  id: string | null;
  name: string;
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
}
