// A WeChat Official Account inbox: its developer credentials (AppID, AppSecret, the Token WeChat signs its calls
// with, the EncodingAESKey of safe mode), its reply window and, tucked away, the API base URL, for a new inbox or
// an edit; and beside an existing one, the webhook URL to paste into WeChat's server configuration with the same
// Token, and its connection state ("waiting" until WeChat's first signed call), polled while the page is open.
// Credentials are never shown: an edit leaves the boxes empty, and only a typed one is sent (wechatSettings.ts).
import { useT } from '../hooks';
import type { Inbox } from '../types';
import { AdvancedBaseUrl, NameAndTeams, useInboxForm, type InboxEditorProps, type InboxFormProps } from './inboxForm';
import { ConnectionState, Field, SaveBar, usePolledInbox, WebhookCard } from './parts';
import { useAdminT } from './useAdminT';
import {
  DEFAULT_API_BASE_URL,
  emptyWechatForm,
  fieldOfError,
  problems,
  readWechat,
  safeMode,
  wechatSettings,
} from './wechatSettings';

/** A new WeChat inbox (inbox = null) or an edit of one; the server's 422 words show next to the save button. */
export function WechatForm({ inbox, teams, onSaved, onCancel }: InboxFormProps) {
  const text = useT();
  const words = useAdminT();
  const form = useInboxForm({
    kind: 'wechat',
    inbox,
    onSaved,
    initial: () => (inbox ? readWechat(inbox.settings) : emptyWechatForm()),
    problems,
    labels: text.wechatFields,
    settings: wechatSettings,
    fieldOfError,
    forget: (f) => ({ ...f, app_secret: '', token: '', aes_key: '', safe_off: false }),
    advanced: { holds: (k) => k === 'api_base_url', open: (f) => f.api_base_url !== DEFAULT_API_BASE_URL },
  });
  const { f, bad, edit, creating } = form;
  const safe = !!inbox && safeMode(inbox.settings);
  const unchanged = creating ? undefined : text.passwordUnchanged;

  return (
    <form class="inbox-form" onSubmit={form.save} noValidate data-testid="wechat-form">
      <NameAndTeams form={form} teams={teams} testid="wechat" />
      <section class="card">
        <h3>{text.wechatCredentials}</h3>
        <p class="muted small">{text.wechatCredentialsHint}</p>
        <div class="form-grid plain">
          <Field label={text.appId} value={f.app_id} onInput={(app_id) => edit({ app_id }, 'app_id')} bad={bad('app_id')} placeholder="wx…" testid="wechat-app-id" />
          <Field
            label={text.appSecret}
            type="password"
            autocomplete="new-password"
            value={f.app_secret}
            onInput={(app_secret) => edit({ app_secret }, 'app_secret')}
            bad={bad('app_secret')}
            placeholder={unchanged}
            testid="wechat-app-secret"
          />
          <Field
            label={text.wechatToken}
            type="password"
            autocomplete="new-password"
            value={f.token}
            onInput={(token) => edit({ token }, 'token')}
            bad={bad('token')}
            placeholder={unchanged}
            testid="wechat-token"
          />
          <Field
            class="span-all"
            label={text.optional(text.aesKey)}
            type="password"
            autocomplete="new-password"
            value={f.aes_key}
            onInput={(aes_key) => edit({ aes_key }, 'encoding_aes_key')}
            bad={bad('encoding_aes_key')}
            placeholder={safe ? unchanged : undefined}
            disabled={f.safe_off}
            testid="wechat-aes-key"
          />
        </div>
        <p class="muted small">{text.tokenHint}</p>
        <p class="muted small">{text.aesKeyHint}</p>
        {safe && (
          <div class="safe-mode">
            <span class="small" data-testid="wechat-safe-mode">
              {text.safeModeOn}
            </span>
            <label class="check">
              <input type="checkbox" checked={f.safe_off} onChange={(e) => edit({ safe_off: e.currentTarget.checked }, 'encoding_aes_key')} data-testid="wechat-safe-off" />
              {text.safeModeOff}
            </label>
          </div>
        )}
        {!creating && <p class="muted small">{text.credentialsKeptHint}</p>}
      </section>
      <section class="card">
        <h3>{text.replyWindowTitle}</h3>
        <div class="form-grid">
          <Field label={text.windowHoursLabel} value={f.window_hours} onInput={(window_hours) => edit({ window_hours }, 'window_hours')} bad={bad('window_hours')} inputMode="numeric" testid="wechat-window-hours" />
          <Field
            label={text.windowMessagesLabel}
            value={f.window_messages}
            onInput={(window_messages) => edit({ window_messages }, 'window_messages')}
            bad={bad('window_messages')}
            inputMode="numeric"
            testid="wechat-window-messages"
          />
        </div>
        <p class="muted small">{text.replyWindowHint}</p>
      </section>
      <section class="card">
        <h3>{words.welcomeMessage}</h3>
        <label class="row-label">
          <span class="muted small">{words.welcomeMessageHint}</span>
          <textarea
            rows={3}
            maxLength={600}
            value={f.welcome_message}
            aria-invalid={bad('welcome_message') ? 'true' : undefined}
            class={bad('welcome_message') ? 'invalid' : undefined}
            onInput={(e) => edit({ welcome_message: e.currentTarget.value }, 'welcome_message')}
            data-testid="wechat-welcome"
          />
        </label>
      </section>
      <AdvancedBaseUrl form={form} hint={text.apiBaseUrlHint} testid="wechat" />
      <SaveBar {...form} onCancel={onCancel} testid="wechat" />
    </form>
  );
}

/** The URL WeChat calls, to copy into its server configuration, with the reminder of what goes beside it. */
function Webhook({ inbox }: { inbox: Inbox }) {
  const text = useT();
  return (
    <WebhookCard inbox={inbox} title={text.webhookTitle}>
      <p class="small" data-testid="webhook-hint">
        {text.webhookHint}
      </p>
      <p class="muted small" data-testid="webhook-mode">
        {safeMode(inbox.settings) ? text.webhookModeSafe : text.webhookModePlain}
      </p>
    </WebhookCard>
  );
}

/**
 * An existing WeChat inbox: the webhook URL first (the admin's next step, and wide enough to read whole), the
 * form, and beside them the connection state, polled while open.
 */
export function WechatInboxEditor({ inbox, teams, onChanged }: InboxEditorProps) {
  const wrote = usePolledInbox(inbox.id, onChanged);
  return (
    <div class="inbox-layout">
      <div class="inbox-form">
        <Webhook inbox={inbox} />
        <WechatForm inbox={inbox} teams={teams} onSaved={wrote} />
      </div>
      <div class="side-sticky">
        <ConnectionState inbox={inbox} />
      </div>
    </div>
  );
}
