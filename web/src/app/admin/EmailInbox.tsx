// An email inbox: its mailbox settings (IMAP in, SMTP out, the polling interval) for a new inbox or an edit, and
// its connection state, refreshed every 3 s while the page is open since the server has no push for it.
// Passwords are never shown: an edit leaves the boxes empty, and only a typed one is sent (emailSettings.ts).
import { useT } from '../hooks';
import { NameAndTeams, useInboxForm, type InboxEditorProps, type InboxFormProps } from './inboxForm';
import { ConnectionState, Field, SaveBar, usePolledInbox } from './parts';
import {
  TLS_MODES,
  emailSettings,
  emptyEmailForm,
  fieldOfError,
  problems,
  readEmail,
  withTls,
  type EmailField,
  type EmailForm as Form,
  type Tls,
} from './emailSettings';

function Security({ value, onChange, testid }: { value: Tls; onChange: (t: Tls) => void; testid: string }) {
  const text = useT();
  return (
    <label>
      {text.mailSecurity}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value as Tls)} data-testid={testid}>
        {TLS_MODES.map((m) => (
          <option value={m}>{text.tlsModes[m]}</option>
        ))}
      </select>
    </label>
  );
}

/** A new email inbox (inbox = null) or an edit of one; the server's 422 words show next to the save button. */
export function EmailForm({ inbox, teams, onSaved, onCancel }: InboxFormProps) {
  const text = useT();
  const form = useInboxForm({
    kind: 'email',
    inbox,
    onSaved,
    initial: () => (inbox ? readEmail(inbox.settings) : emptyEmailForm()),
    problems,
    labels: text.emailFields,
    settings: emailSettings,
    fieldOfError,
    forget: (f) => ({ ...f, imap: { ...f.imap, password: '' }, smtp: { ...f.smtp, password: '' } }),
  });
  const { f, bad, edit, creating } = form;
  const imap = (patch: Partial<Form['imap']>) => edit({ imap: { ...f.imap, ...patch } }, ...Object.keys(patch).map((k) => `imap.${k}` as EmailField));
  const smtp = (patch: Partial<Form['smtp']>) => edit({ smtp: { ...f.smtp, ...patch } }, ...Object.keys(patch).map((k) => `smtp.${k}` as EmailField));
  const unchanged = creating ? undefined : text.passwordUnchanged;

  return (
    <form class="inbox-form" onSubmit={form.save} noValidate data-testid="email-form">
      <NameAndTeams form={form} teams={teams} testid="email" />
      <section class="card">
        <h3>{text.imapTitle}</h3>
        <div class="form-grid plain">
          <Field class="span-2" label={text.mailHost} value={f.imap.host} onInput={(host) => imap({ host })} bad={bad('imap.host')} placeholder="imap.example.com" testid="email-imap-host" />
          <Field label={text.mailPort} value={f.imap.port} onInput={(port) => imap({ port })} bad={bad('imap.port')} inputMode="numeric" testid="email-imap-port" />
          <Security value={f.imap.tls} onChange={(tls) => edit({ imap: withTls('imap', f.imap, tls) })} testid="email-imap-tls" />
          <Field label={text.mailUser} value={f.imap.user} onInput={(user) => imap({ user })} bad={bad('imap.user')} testid="email-imap-user" />
          <Field label={text.password} type="password" autocomplete="new-password" value={f.imap.password} onInput={(password) => imap({ password })} bad={bad('imap.password')} placeholder={unchanged} testid="email-imap-password" />
          <Field label={text.mailFolder} value={f.imap.folder} onInput={(folder) => imap({ folder })} placeholder="INBOX" testid="email-imap-folder" />
          <Field label={text.pollInterval} value={f.poll} onInput={(poll) => edit({ poll }, 'poll')} bad={bad('poll')} inputMode="numeric" testid="email-poll" />
        </div>
        <p class="muted small">{text.pollHint}</p>
        <label class="check">
          <input type="checkbox" checked={f.tickets} onChange={(e) => edit({ tickets: e.currentTarget.checked })} data-testid="email-tickets" />
          {text.emailTickets}
        </label>
        {f.imap.tls === 'none' && <p class="hint-warn small">{text.tlsNoneHint}</p>}
      </section>
      <section class="card">
        <h3>{text.smtpTitle}</h3>
        <div class="form-grid plain">
          <Field class="span-2" label={text.mailHost} value={f.smtp.host} onInput={(host) => smtp({ host })} bad={bad('smtp.host')} placeholder="smtp.example.com" testid="email-smtp-host" />
          <Field label={text.mailPort} value={f.smtp.port} onInput={(port) => smtp({ port })} bad={bad('smtp.port')} inputMode="numeric" testid="email-smtp-port" />
          <Security value={f.smtp.tls} onChange={(tls) => edit({ smtp: withTls('smtp', f.smtp, tls) })} testid="email-smtp-tls" />
          <Field label={text.optional(text.mailUser)} value={f.smtp.user} onInput={(user) => smtp({ user })} testid="email-smtp-user" />
          <Field label={text.optional(text.password)} type="password" autocomplete="new-password" value={f.smtp.password} onInput={(password) => smtp({ password })} placeholder={unchanged} testid="email-smtp-password" />
          <Field class="span-2" label={text.fromAddress} type="email" value={f.smtp.from_address} onInput={(from_address) => smtp({ from_address })} bad={bad('smtp.from_address')} placeholder="support@example.com" testid="email-smtp-from" />
          <Field label={text.optional(text.fromName)} value={f.smtp.from_name} onInput={(from_name) => smtp({ from_name })} testid="email-smtp-from-name" />
        </div>
        <p class="muted small">{text.smtpUserHint}</p>
        {f.smtp.tls === 'none' && <p class="hint-warn small">{text.tlsNoneHint}</p>}
        {!creating && <p class="muted small">{text.passwordKeptHint}</p>}
      </section>
      <SaveBar {...form} onCancel={onCancel} testid="email" />
    </form>
  );
}

/** An existing email inbox: the form, and beside it the connection state, polled while this is open. */
export function EmailInboxEditor({ inbox, teams, onChanged }: InboxEditorProps) {
  const wrote = usePolledInbox(inbox.id, onChanged);
  return (
    <div class="inbox-layout">
      <EmailForm inbox={inbox} teams={teams} onSaved={wrote} />
      <div class="side-sticky">
        <ConnectionState inbox={inbox} />
      </div>
    </div>
  );
}
