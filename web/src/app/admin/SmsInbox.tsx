// An SMS inbox on Twilio: the account (Account SID, Auth Token), what replies are sent from (a number, a Messaging
// Service, or both) and, tucked away, the API base URL, for a new inbox or an edit; and beside an existing one, the
// webhook URL to set as the number's "A message comes in" webhook in Twilio, and its connection state ("waiting"
// until Twilio's first signed call, an error when Twilio refuses the credentials), polled while the page is open.
// The auth token is never shown: an edit leaves its box empty, and only a typed one is sent (smsSettings.ts).
import { useT } from '../hooks';
import { AdvancedBaseUrl, NameAndTeams, useInboxForm, type InboxEditorProps, type InboxFormProps } from './inboxForm';
import { ConnectionState, Field, SaveBar, usePolledInbox, WebhookCard } from './parts';
import { DEFAULT_TWILIO_API, emptySmsForm, fieldOfError, problems, readSms, smsSettings, type SmsForm as Form } from './smsSettings';
import { useAdminT } from './useAdminT';

/** A new SMS inbox (inbox = null) or an edit of one; the server's 422 words show next to the save button. */
export function SmsForm({ inbox, teams, onSaved, onCancel }: InboxFormProps) {
  const text = useT();
  const words = useAdminT();
  const form = useInboxForm({
    kind: 'twilio_sms',
    inbox,
    onSaved,
    initial: () => (inbox ? readSms(inbox.settings) : emptySmsForm()),
    problems,
    labels: words.smsFields,
    settings: smsSettings,
    fieldOfError,
    forget: (f) => ({ ...f, auth_token: '' }),
    advanced: { holds: (k) => k === 'api_base_url', open: (f) => f.api_base_url !== DEFAULT_TWILIO_API },
  });
  const { f, bad, edit, creating } = form;
  // The number and the messaging service answer the same need ("at least one"), so typing either clears both marks.
  const sender = (patch: Partial<Form>) => edit(patch, 'from_number', 'messaging_service_sid');

  return (
    <form class="inbox-form" onSubmit={form.save} noValidate data-testid="sms-form">
      <NameAndTeams form={form} teams={teams} testid="sms" />
      <section class="card">
        <h3>{words.twilioAccount}</h3>
        <p class="muted small">{words.twilioAccountHint}</p>
        <div class="form-grid plain two">
          <Field
            label={words.accountSid}
            value={f.account_sid}
            onInput={(account_sid) => edit({ account_sid }, 'account_sid')}
            bad={bad('account_sid')}
            placeholder="AC…"
            testid="sms-account-sid"
          />
          <Field
            label={words.authToken}
            type="password"
            autocomplete="new-password"
            value={f.auth_token}
            onInput={(auth_token) => edit({ auth_token }, 'auth_token')}
            bad={bad('auth_token')}
            placeholder={creating ? undefined : text.passwordUnchanged}
            testid="sms-auth-token"
          />
        </div>
        {!creating && <p class="muted small">{words.authTokenKeptHint}</p>}
      </section>
      <section class="card">
        <h3>{words.sender}</h3>
        <div class="form-grid plain two">
          <Field
            label={words.fromNumber}
            type="tel"
            value={f.from_number}
            onInput={(from_number) => sender({ from_number })}
            bad={bad('from_number')}
            placeholder="+14155550100"
            testid="sms-from-number"
          />
          <Field
            label={text.optional(words.messagingServiceSid)}
            value={f.messaging_service_sid}
            onInput={(messaging_service_sid) => sender({ messaging_service_sid })}
            bad={bad('messaging_service_sid')}
            placeholder="MG…"
            testid="sms-messaging-service"
          />
        </div>
        <p class="muted small">{words.senderHint}</p>
      </section>
      <AdvancedBaseUrl form={form} hint={words.twilioApiBaseUrlHint} testid="sms" />
      <SaveBar {...form} onCancel={onCancel} testid="sms" />
    </form>
  );
}

/**
 * An existing SMS inbox: the webhook URL first (the admin's next step in Twilio), the form, and beside them the
 * connection state, polled while open, with the address Twilio calls once it has.
 */
export function SmsInboxEditor({ inbox, teams, onChanged }: InboxEditorProps) {
  const words = useAdminT();
  const wrote = usePolledInbox(inbox.id, onChanged);
  const called = inbox.channel_state?.webhook_url;
  return (
    <div class="inbox-layout">
      <div class="inbox-form">
        <WebhookCard inbox={inbox} title={words.smsWebhookTitle} label={words.smsWebhookUrl}>
          <p class="small" data-testid="webhook-hint">
            {words.smsWebhookHint}
          </p>
          <p class="muted small" data-testid="webhook-status-hint">
            {words.smsStatusHint}
          </p>
          <p class="muted small">{words.smsServiceHint}</p>
        </WebhookCard>
        <SmsForm inbox={inbox} teams={teams} onSaved={wrote} />
      </div>
      <div class="side-sticky">
        <ConnectionState inbox={inbox}>
          {called && (
            <div class="small" data-testid="channel-state-url">
              <span class="muted">{words.twilioCalls}: </span>
              <span class="mono break">{called}</span>
            </div>
          )}
        </ConnectionState>
      </div>
    </div>
  );
}
