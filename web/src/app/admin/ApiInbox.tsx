// An API inbox, for a custom integration: its name, teams and reply URL (where agents' replies are POSTed; empty =
// they stay in Kefu), for a new inbox or an edit; and beside an existing one, the API secret (the inbox's identity
// secret, admins only) with Copy and Rotate, how to post a customer's message in, what a reply looks like and how to
// check its signature, and the connection state ("waiting" until the integration's first message).
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import type { Inbox, Team } from '../types';
import { apiSettings, curlExample, fieldOfError, problems, readReplyUrl, replyExample, sendExample, SIGNATURE_SAMPLE, type ApiField } from './apiSettings';
import { useAdminT } from './useAdminT';
import { ConnectionState, CopyButton, Field, SecretRow, usePolledInbox, WebhookCard } from './parts';
import { TeamChecks } from './TeamChecks';
import { attempt } from './useLoad';
import { webhookUrl } from './wechatSettings';

/** A new API inbox (inbox = null) or an edit of one; the server's 422 words show next to the save button. */
export function ApiForm({ inbox, teams, onSaved, onCancel }: { inbox: Inbox | null; teams: Team[]; onSaved: (i: Inbox) => void; onCancel?: () => void }) {
  const text = useT();
  const words = useAdminT();
  const creating = !inbox;
  const [name, setName] = useState(inbox?.name ?? '');
  const [teamIds, setTeamIds] = useState(inbox?.teams ?? []);
  const [replyUrl, setReplyUrl] = useState(() => readReplyUrl(inbox?.settings));
  const [invalid, setInvalid] = useState<ApiField[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const bad = (k: ApiField) => invalid.includes(k);

  const save = async (e: Event) => {
    e.preventDefault();
    const wrong = problems(name, replyUrl);
    setInvalid(wrong);
    setSaved(false);
    if (wrong.length) {
      setError(text.checkFields(wrong.map((k) => words.apiFields[k])));
      return;
    }
    setBusy(true);
    const err = await attempt(async () => {
      const body = { name: name.trim(), teams: teamIds, settings: apiSettings(replyUrl) };
      const { inbox: next } = inbox ? await rest.updateInbox(inbox.id, body) : await rest.createInbox({ kind: 'api', ...body });
      onSaved(next);
    });
    setBusy(false);
    setError(err);
    setSaved(!err);
    const named = err ? fieldOfError(err) : null;
    if (named) setInvalid([named]);
  };

  return (
    <form class="inbox-form" onSubmit={save} noValidate data-testid="api-form">
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
            data-testid="api-name"
          />
        </label>
        <TeamChecks
          teams={teams}
          value={teamIds}
          onChange={(ids) => {
            setTeamIds(ids);
            setSaved(false);
          }}
          testid="api-team"
        />
        <Field
          class="row-label wide"
          label={text.optional(words.replyUrl)}
          type="url"
          value={replyUrl}
          onInput={(v) => {
            setReplyUrl(v);
            setSaved(false);
            if (bad('reply_url')) setInvalid(invalid.filter((k) => k !== 'reply_url'));
          }}
          bad={bad('reply_url')}
          placeholder="https://crm.example.com/kefu/replies"
          hint={words.replyUrlHint}
          testid="api-reply-url"
        />
      </section>
      <div class="sticky-save">
        {error && (
          <div class="form-error" role="alert" data-testid="api-error">
            {error}
          </div>
        )}
        {saved && !creating && <span class="form-ok">{text.saved}</span>}
        {onCancel && (
          <button type="button" class="btn" onClick={onCancel}>
            {text.cancel}
          </button>
        )}
        <button type="submit" class="btn primary" disabled={busy} data-testid="api-save">
          {busy ? text.saving : creating ? text.create : text.save}
        </button>
      </div>
    </form>
  );
}

/** The signature check, as steps and as code: shared by API inboxes' replies and outbound webhooks. */
export function SignatureHelp() {
  const words = useAdminT();
  return (
    <section class="card" data-testid="signature-help">
      <h3>{words.signatureTitle}</h3>
      <ol class="steps small">
        {words.signatureSteps.map((s) => (
          <li>{s}</li>
        ))}
      </ol>
      <pre class="code">{SIGNATURE_SAMPLE}</pre>
    </section>
  );
}

/** The secret the integration sends as bearer token and signs replies with: hidden until asked, Copy, Rotate. */
function ApiSecret({ inbox, onChanged }: { inbox: Inbox; onChanged: (i: Inbox) => void }) {
  const text = useT();
  const words = useAdminT();
  return (
    <section class="card" data-testid="api-secret-card">
      <h3>{words.apiSecretTitle}</h3>
      <p class="muted small">{words.apiSecretHint}</p>
      {inbox.identity_secret === undefined ? (
        <p class="muted small">{text.secretUnavailable}</p>
      ) : (
        <SecretRow
          secret={inbox.identity_secret}
          onRotate={async () => onChanged((await rest.newIdentitySecret(inbox.id)).inbox)}
          rotateLabel={words.rotate}
          confirmRotate={words.confirmRotate}
          testid="api-secret"
        />
      )}
    </section>
  );
}

/**
 * An existing API inbox: the endpoint and how to call it, the form, what replies look like and how to check their
 * signature; beside them the secret and the connection state (polled while open).
 */
export function ApiInboxEditor({ inbox, teams, onChanged }: { inbox: Inbox; teams: Team[]; onChanged: (i: Inbox) => void }) {
  const words = useAdminT();
  const wrote = usePolledInbox(inbox.id, onChanged);
  const url = inbox.webhook_path ? webhookUrl(location.origin, inbox.webhook_path) : '';
  const replyUrl = readReplyUrl(inbox.settings);
  return (
    <div class="inbox-layout">
      <div class="inbox-form">
        <WebhookCard inbox={inbox} title={words.apiSendTitle} label={words.apiEndpoint}>
          <div class="snippet-row top">
            <pre class="code snippet" data-testid="api-usage">
              {sendExample(url)}
            </pre>
            <CopyButton value={curlExample(url, inbox.identity_secret ?? '<secret>')} label={words.copyCurl} testid="api-usage-copy" />
          </div>
          <p class="muted small">{words.apiSendHint}</p>
        </WebhookCard>
        <ApiForm inbox={inbox} teams={teams} onSaved={wrote} />
        <section class="card" data-testid="api-replies">
          <h3>{words.apiRepliesTitle}</h3>
          <p class="small">{replyUrl ? words.apiRepliesHint : words.apiNoReplyUrl}</p>
          <pre class="code" data-testid="api-reply-example">
            {replyExample(replyUrl)}
          </pre>
        </section>
        <SignatureHelp />
      </div>
      <div class="side-sticky">
        <ApiSecret inbox={inbox} onChanged={wrote} />
        <ConnectionState inbox={inbox} />
      </div>
    </div>
  );
}
