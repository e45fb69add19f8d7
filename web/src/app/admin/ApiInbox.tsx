// An API inbox, for a custom integration: its name, teams and reply URL (where agents' replies are POSTed; empty =
// they stay in Kefu), for a new inbox or an edit; and beside an existing one, the API secret (the inbox's identity
// secret, admins only) with Copy and Rotate, how to post a customer's message in, what a reply looks like and how to
// check its signature, and the connection state ("waiting" until the integration's first message).
import { rest } from '../api';
import { useT } from '../hooks';
import type { Inbox } from '../types';
import { apiSettings, curlExample, fieldOfError, problems, readReplyUrl, replyExample, sendExample, SIGNATURE_SAMPLE } from './apiSettings';
import { NameAndTeams, useInboxForm, type InboxEditorProps, type InboxFormProps } from './inboxForm';
import { ConnectionState, CopyButton, Field, SaveBar, SecretRow, usePolledInbox, WebhookCard } from './parts';
import { useAdminT } from './useAdminT';
import { webhookUrl } from './wechatSettings';

/** A new API inbox (inbox = null) or an edit of one; the server's 422 words show next to the save button. */
export function ApiForm({ inbox, teams, onSaved, onCancel }: InboxFormProps) {
  const text = useT();
  const words = useAdminT();
  // The only setting is the reply URL, kept as the string typed.
  const form = useInboxForm({
    kind: 'api',
    inbox,
    onSaved,
    initial: () => readReplyUrl(inbox?.settings),
    problems,
    labels: words.apiFields,
    settings: apiSettings,
    fieldOfError,
  });

  return (
    <form class="inbox-form" onSubmit={form.save} noValidate data-testid="api-form">
      <NameAndTeams form={form} teams={teams} testid="api">
        <Field
          class="row-label wide"
          label={text.optional(words.replyUrl)}
          type="url"
          value={form.f}
          onInput={(v) => form.change(v, 'reply_url')}
          bad={form.bad('reply_url')}
          placeholder="https://crm.example.com/kefu/replies"
          hint={words.replyUrlHint}
          testid="api-reply-url"
        />
      </NameAndTeams>
      <SaveBar {...form} onCancel={onCancel} testid="api" />
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
export function ApiInboxEditor({ inbox, teams, onChanged }: InboxEditorProps) {
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
