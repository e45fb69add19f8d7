// An SMS inbox on Twilio: the account (Account SID, Auth Token), what replies are sent from (a number, a Messaging
// Service, or both) and, tucked away, the API base URL, for a new inbox or an edit; and beside an existing one, the
// webhook URL to set as the number's "A message comes in" webhook in Twilio, and its connection state ("waiting"
// until Twilio's first signed call, an error when Twilio refuses the credentials), polled while the page is open.
// The auth token is never shown: an edit leaves its box empty, and only a typed one is sent (smsSettings.ts).
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import type { Inbox, Team } from '../types';
import { useAdminT } from './useAdminT';
import { ConnectionState, Field, usePolledInbox, WebhookCard } from './parts';
import { DEFAULT_TWILIO_API, emptySmsForm, fieldOfError, problems, readSms, smsSettings, type SmsField, type SmsForm as Form } from './smsSettings';
import { TeamChecks } from './TeamChecks';
import { attempt } from './useLoad';

/** A new SMS inbox (inbox = null) or an edit of one; the server's 422 words show next to the save button. */
export function SmsForm({ inbox, teams, onSaved, onCancel }: { inbox: Inbox | null; teams: Team[]; onSaved: (i: Inbox) => void; onCancel?: () => void }) {
  const text = useT();
  const words = useAdminT();
  const creating = !inbox;
  const [name, setName] = useState(inbox?.name ?? '');
  const [teamIds, setTeamIds] = useState(inbox?.teams ?? []);
  const [f, setF] = useState<Form>(() => (inbox ? readSms(inbox.settings) : emptySmsForm()));
  const [advanced, setAdvanced] = useState(() => f.api_base_url !== DEFAULT_TWILIO_API);
  const [invalid, setInvalid] = useState<SmsField[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const bad = (k: SmsField) => invalid.includes(k);
  // Typing into a field marked wrong takes its mark away; the message stays until the next save. The number and
  // the messaging service answer the same need ("at least one"), so typing either clears both.
  const edit = (patch: Partial<Form>, ...fixed: SmsField[]) => {
    setF({ ...f, ...patch });
    setSaved(false);
    if (fixed.some(bad)) setInvalid(invalid.filter((k) => !fixed.includes(k)));
  };
  const mark = (wrong: SmsField[]) => {
    setInvalid(wrong);
    if (wrong.includes('api_base_url')) setAdvanced(true);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const wrong = problems(name, f, creating);
    mark(wrong);
    setSaved(false);
    if (wrong.length) {
      setError(text.checkFields(wrong.map((k) => words.smsFields[k])));
      return;
    }
    setBusy(true);
    const err = await attempt(async () => {
      const body = { name: name.trim(), teams: teamIds, settings: smsSettings(f) };
      const { inbox: next } = inbox ? await rest.updateInbox(inbox.id, body) : await rest.createInbox({ kind: 'twilio_sms', ...body });
      // What was typed is stored now: the token box goes back to "unchanged" rather than keep it on screen.
      setF((cur) => ({ ...cur, auth_token: '' }));
      onSaved(next);
    });
    setBusy(false);
    setError(err);
    setSaved(!err);
    const named = err ? fieldOfError(err) : null;
    if (named) mark([named]);
  };

  return (
    <form class="inbox-form" onSubmit={save} noValidate data-testid="sms-form">
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
            data-testid="sms-name"
          />
        </label>
        <TeamChecks
          teams={teams}
          value={teamIds}
          onChange={(ids) => {
            setTeamIds(ids);
            setSaved(false);
          }}
          testid="sms-team"
        />
      </section>
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
            onInput={(from_number) => edit({ from_number }, 'from_number', 'messaging_service_sid')}
            bad={bad('from_number')}
            placeholder="+14155550100"
            testid="sms-from-number"
          />
          <Field
            label={text.optional(words.messagingServiceSid)}
            value={f.messaging_service_sid}
            onInput={(messaging_service_sid) => edit({ messaging_service_sid }, 'messaging_service_sid', 'from_number')}
            bad={bad('messaging_service_sid')}
            placeholder="MG…"
            testid="sms-messaging-service"
          />
        </div>
        <p class="muted small">{words.senderHint}</p>
      </section>
      <details class="card advanced" open={advanced} onToggle={(e) => setAdvanced(e.currentTarget.open)}>
        <summary data-testid="sms-advanced">{text.advanced}</summary>
        <Field
          class="row-label"
          label={text.apiBaseUrl}
          type="url"
          value={f.api_base_url}
          onInput={(api_base_url) => edit({ api_base_url }, 'api_base_url')}
          bad={bad('api_base_url')}
          hint={words.twilioApiBaseUrlHint}
          testid="sms-api-base"
        />
      </details>
      <div class="sticky-save">
        {error && (
          <div class="form-error" role="alert" data-testid="sms-error">
            {error}
          </div>
        )}
        {saved && !creating && <span class="form-ok">{text.saved}</span>}
        {onCancel && (
          <button type="button" class="btn" onClick={onCancel}>
            {text.cancel}
          </button>
        )}
        <button type="submit" class="btn primary" disabled={busy} data-testid="sms-save">
          {busy ? text.saving : creating ? text.create : text.save}
        </button>
      </div>
    </form>
  );
}

/**
 * An existing SMS inbox: the webhook URL first (the admin's next step in Twilio), the form, and beside them the
 * connection state, polled while open, with the address Twilio calls once it has.
 */
export function SmsInboxEditor({ inbox, teams, onChanged }: { inbox: Inbox; teams: Team[]; onChanged: (i: Inbox) => void }) {
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
