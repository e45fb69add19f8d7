// An email inbox: its mailbox settings (IMAP in, SMTP out, the polling interval) for a new inbox or an edit, and
// its connection state, refreshed every 3 s while the page is open since the server has no push for it.
// Passwords are never shown: an edit leaves the boxes empty, and only a typed one is sent (emailSettings.ts).
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import type { Inbox, Team } from '../types';
import { ConnectionState, Field, usePolledInbox } from './parts';
import { TeamChecks } from './TeamChecks';
import { attempt } from './useLoad';
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
export function EmailForm({ inbox, teams, onSaved, onCancel }: { inbox: Inbox | null; teams: Team[]; onSaved: (i: Inbox) => void; onCancel?: () => void }) {
  const text = useT();
  const creating = !inbox;
  const [name, setName] = useState(inbox?.name ?? '');
  const [teamIds, setTeamIds] = useState(inbox?.teams ?? []);
  const [f, setF] = useState<Form>(() => (inbox ? readEmail(inbox.settings) : emptyEmailForm()));
  const [invalid, setInvalid] = useState<EmailField[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const bad = (k: EmailField) => invalid.includes(k);
  // Typing into a field marked wrong takes its mark away; the message stays until the next save.
  const imap = (patch: Partial<Form['imap']>) => edit({ ...f, imap: { ...f.imap, ...patch } }, ...Object.keys(patch).map((k) => `imap.${k}` as EmailField));
  const smtp = (patch: Partial<Form['smtp']>) => edit({ ...f, smtp: { ...f.smtp, ...patch } }, ...Object.keys(patch).map((k) => `smtp.${k}` as EmailField));
  function edit(next: Form, ...fixed: EmailField[]) {
    setF(next);
    setSaved(false);
    if (fixed.some(bad)) setInvalid(invalid.filter((k) => !fixed.includes(k)));
  }
  const unchanged = creating ? undefined : text.passwordUnchanged;

  const save = async (e: Event) => {
    e.preventDefault();
    const wrong = problems(name, f, creating);
    setInvalid(wrong);
    setSaved(false);
    if (wrong.length) {
      setError(text.checkFields(wrong.map((k) => text.emailFields[k])));
      return;
    }
    setBusy(true);
    const err = await attempt(async () => {
      const body = { name: name.trim(), teams: teamIds, settings: emailSettings(f) };
      const { inbox: next } = inbox ? await rest.updateInbox(inbox.id, body) : await rest.createInbox({ kind: 'email', ...body });
      // What was typed is stored now: the boxes go back to "unchanged" rather than keep a password on screen.
      setF((cur) => ({ ...cur, imap: { ...cur.imap, password: '' }, smtp: { ...cur.smtp, password: '' } }));
      onSaved(next);
    });
    setBusy(false);
    setError(err);
    setSaved(!err);
    const named = err ? fieldOfError(err) : null;
    if (named) setInvalid([named]);
  };

  return (
    <form class="inbox-form" onSubmit={save} noValidate data-testid="email-form">
      <section class="card">
        <label class="row-label">
          {text.name}
          <input
            value={name}
            aria-invalid={bad('name') ? 'true' : undefined}
            class={bad('name') ? 'invalid' : undefined}
            onInput={(e) => {
              setName(e.currentTarget.value);
              setSaved(false);
              if (bad('name')) setInvalid(invalid.filter((k) => k !== 'name'));
            }}
            data-testid="email-name"
          />
        </label>
        <TeamChecks
          teams={teams}
          value={teamIds}
          onChange={(ids) => {
            setTeamIds(ids);
            setSaved(false);
          }}
          testid="email-team"
        />
      </section>
      <section class="card">
        <h3>{text.imapTitle}</h3>
        <div class="form-grid plain">
          <Field class="span-2" label={text.mailHost} value={f.imap.host} onInput={(host) => imap({ host })} bad={bad('imap.host')} placeholder="imap.example.com" testid="email-imap-host" />
          <Field label={text.mailPort} value={f.imap.port} onInput={(port) => imap({ port })} bad={bad('imap.port')} inputMode="numeric" testid="email-imap-port" />
          <Security value={f.imap.tls} onChange={(tls) => edit({ ...f, imap: withTls('imap', f.imap, tls) })} testid="email-imap-tls" />
          <Field label={text.mailUser} value={f.imap.user} onInput={(user) => imap({ user })} bad={bad('imap.user')} testid="email-imap-user" />
          <Field label={text.password} type="password" autocomplete="new-password" value={f.imap.password} onInput={(password) => imap({ password })} bad={bad('imap.password')} placeholder={unchanged} testid="email-imap-password" />
          <Field label={text.mailFolder} value={f.imap.folder} onInput={(folder) => imap({ folder })} placeholder="INBOX" testid="email-imap-folder" />
          <Field label={text.pollInterval} value={f.poll} onInput={(poll) => edit({ ...f, poll }, 'poll')} bad={bad('poll')} inputMode="numeric" testid="email-poll" />
        </div>
        <p class="muted small">{text.pollHint}</p>
        <label class="check">
          <input type="checkbox" checked={f.tickets} onChange={(e) => edit({ ...f, tickets: e.currentTarget.checked })} data-testid="email-tickets" />
          {text.emailTickets}
        </label>
        {f.imap.tls === 'none' && <p class="hint-warn small">{text.tlsNoneHint}</p>}
      </section>
      <section class="card">
        <h3>{text.smtpTitle}</h3>
        <div class="form-grid plain">
          <Field class="span-2" label={text.mailHost} value={f.smtp.host} onInput={(host) => smtp({ host })} bad={bad('smtp.host')} placeholder="smtp.example.com" testid="email-smtp-host" />
          <Field label={text.mailPort} value={f.smtp.port} onInput={(port) => smtp({ port })} bad={bad('smtp.port')} inputMode="numeric" testid="email-smtp-port" />
          <Security value={f.smtp.tls} onChange={(tls) => edit({ ...f, smtp: withTls('smtp', f.smtp, tls) })} testid="email-smtp-tls" />
          <Field label={text.optional(text.mailUser)} value={f.smtp.user} onInput={(user) => smtp({ user })} testid="email-smtp-user" />
          <Field label={text.optional(text.password)} type="password" autocomplete="new-password" value={f.smtp.password} onInput={(password) => smtp({ password })} placeholder={unchanged} testid="email-smtp-password" />
          <Field class="span-2" label={text.fromAddress} type="email" value={f.smtp.from_address} onInput={(from_address) => smtp({ from_address })} bad={bad('smtp.from_address')} placeholder="support@example.com" testid="email-smtp-from" />
          <Field label={text.optional(text.fromName)} value={f.smtp.from_name} onInput={(from_name) => smtp({ from_name })} testid="email-smtp-from-name" />
        </div>
        <p class="muted small">{text.smtpUserHint}</p>
        {f.smtp.tls === 'none' && <p class="hint-warn small">{text.tlsNoneHint}</p>}
        {!creating && <p class="muted small">{text.passwordKeptHint}</p>}
      </section>
      <div class="sticky-save">
        {error && (
          <div class="form-error" role="alert" data-testid="email-error">
            {error}
          </div>
        )}
        {saved && !creating && <span class="form-ok">{text.saved}</span>}
        {onCancel && (
          <button type="button" class="btn" onClick={onCancel}>
            {text.cancel}
          </button>
        )}
        <button type="submit" class="btn primary" disabled={busy} data-testid="email-save">
          {busy ? text.saving : creating ? text.create : text.save}
        </button>
      </div>
    </form>
  );
}

/** An existing email inbox: the form, and beside it the connection state, polled while this is open. */
export function EmailInboxEditor({ inbox, teams, onChanged }: { inbox: Inbox; teams: Team[]; onChanged: (i: Inbox) => void }) {
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
