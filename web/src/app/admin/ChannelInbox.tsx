// The inboxes whose settings are a plain list of fields (channelSettings.ts): SMS on Aliyun (AccessKey, signature,
// template, with how replies fill the template), Weibo (app secret, access token) and WeCom customer service (corp
// ID, account, Secret, Token, EncodingAESKey, reply window); the API base URL tucked away under "Advanced".
// Credentials are never shown: an edit leaves their boxes empty ("Unchanged"), and only a typed one is sent. Beside
// an existing inbox: what to paste into the provider's console with Copy (Aliyun: the two push URLs carrying the
// inbox's token, rotatable; Weibo: the push URL; WeCom: the callback URL), and the connection state, polled.
import { rest } from '../api';
import { useT } from '../hooks';
import type { Inbox } from '../types';
import {
  aliyunPushUrls,
  CHANNEL_FIELDS,
  channelFieldOfError,
  channelProblems,
  channelSettings,
  emptyChannelForm,
  readChannel,
  type ChannelFieldSpec,
  type ChannelKind,
} from './channelSettings';
import { Advanced, NameAndTeams, useInboxForm, type InboxEditorProps, type InboxFormProps } from './inboxForm';
import { ConnectionState, CopyButton, Field, SaveBar, SecretRow, usePolledInbox, WebhookCard } from './parts';
import { useAdminT } from './useAdminT';

/** A new inbox of one of these kinds (inbox = null) or an edit of one; the server's 422 words show by the button. */
export function ChannelForm({ kind, inbox, teams, onSaved, onCancel }: InboxFormProps & { kind: ChannelKind }) {
  const text = useT();
  const words = useAdminT();
  const specs = CHANNEL_FIELDS[kind];
  const advancedFields = specs.filter((s) => s.advanced);
  const form = useInboxForm({
    kind,
    inbox,
    onSaved,
    initial: () => (inbox ? readChannel(kind, inbox.settings) : emptyChannelForm(kind)),
    problems: (name, f, creating) => channelProblems(kind, name, f, creating),
    labels: words.channelFields,
    settings: (f) => channelSettings(kind, f),
    fieldOfError: (err) => channelFieldOfError(kind, err),
    forget: (f) => ({ ...f, ...Object.fromEntries(specs.filter((s) => s.secret).map((s) => [s.key, ''])) }),
    advanced: { holds: (k) => advancedFields.some((s) => s.key === k), open: (f) => advancedFields.some((s) => f[s.key] !== (s.default ?? '')) },
  });
  const { f, bad, creating } = form;

  const field = (s: ChannelFieldSpec) => (
    <Field
      key={s.key}
      class={s.advanced ? 'row-label' : s.key === 'encoding_aes_key' ? 'span-all' : undefined}
      label={s.optional ? text.optional(words.channelFields[s.key]) : words.channelFields[s.key]}
      type={s.secret ? 'password' : s.url ? 'url' : 'text'}
      autocomplete={s.secret ? 'new-password' : undefined}
      inputMode={s.range ? 'numeric' : undefined}
      value={f[s.key] ?? ''}
      onInput={(v) => form.edit({ [s.key]: v }, s.key)}
      bad={bad(s.key)}
      placeholder={s.secret && !creating ? text.passwordUnchanged : (s.placeholder ?? (s.default && !s.range ? s.default : undefined))}
      hint={s.url ? words.apiBaseUrlHint : undefined}
      testid={`${kind}-${s.key}`}
    />
  );
  const main = specs.filter((s) => !s.advanced && !s.range);
  const windowFields = specs.filter((s) => s.range);

  return (
    <form class="inbox-form" onSubmit={form.save} noValidate data-testid="channel-form" data-kind={kind}>
      <NameAndTeams form={form} teams={teams} testid={kind} />
      <section class="card">
        <h3>{words.channelSections[kind]}</h3>
        <p class="muted small">{words.channelSectionHints[kind]}</p>
        <div class="form-grid plain two">{main.map(field)}</div>
        {kind === 'aliyun_sms' && (
          <p class="small" data-testid="aliyun-template-hint">
            {words.templateHint((f.template_param ?? '').trim() || 'content')}
          </p>
        )}
        {!creating && <p class="muted small">{words.credentialsKept}</p>}
      </section>
      {windowFields.length > 0 && (
        <section class="card">
          <h3>{text.replyWindowTitle}</h3>
          <div class="form-grid">{windowFields.map(field)}</div>
          <p class="muted small">{words.wecomWindowHint}</p>
        </section>
      )}
      <Advanced form={form} testid={kind}>
        {advancedFields.map(field)}
      </Advanced>
      <SaveBar {...form} onCancel={onCancel} testid="channel" />
    </form>
  );
}

function UrlRow({ label, value, testid }: { label: string; value: string; testid: string }) {
  return (
    <div class="row-label">
      <span>{label}</span>
      <div class="snippet-row">
        <input class="mono" readOnly value={value} aria-label={label} onFocus={(e) => e.currentTarget.select()} data-testid={testid} />
        <CopyButton value={value} testid={`${testid}-copy`} />
      </div>
    </div>
  );
}

/** Aliyun's two push URLs, each carrying the inbox's token (Aliyun does not sign), and the token's Rotate. */
function AliyunPush({ inbox, onChanged }: { inbox: Inbox; onChanged: (i: Inbox) => void }) {
  const words = useAdminT();
  const secret = inbox.identity_secret;
  const urls = inbox.webhook_path && secret ? aliyunPushUrls(location.origin, inbox.webhook_path, secret) : null;
  return (
    <section class="card webhook" data-testid="aliyun-push">
      <h3>{words.aliyunPushTitle}</h3>
      {secret === undefined ? (
        <p class="muted small">{words.aliyunTokenUnavailable}</p>
      ) : urls ? (
        <>
          <UrlRow label={words.aliyunTextsUrl} value={urls.texts} testid="aliyun-texts-url" />
          <UrlRow label={words.aliyunReportsUrl} value={urls.reports} testid="aliyun-report-url" />
          <p class="small" data-testid="webhook-hint">
            {words.aliyunPushHint}
          </p>
        </>
      ) : (
        <p class="muted small">{words.aliyunNoToken}</p>
      )}
      {secret !== undefined && (
        <>
          <h4>{words.pushToken}</h4>
          <p class="muted small">{words.aliyunTokenHint}</p>
          <SecretRow
            secret={secret}
            onRotate={async () => onChanged((await rest.newIdentitySecret(inbox.id)).inbox)}
            rotateLabel={secret ? words.rotate : words.makeToken}
            confirmRotate={words.confirmRotate}
            testid="aliyun-token"
          />
        </>
      )}
    </section>
  );
}

/** An existing Aliyun SMS, Weibo or WeCom inbox: what to paste into the provider, the form, the connection state. */
export function ChannelInboxEditor({ kind, inbox, teams, onChanged }: InboxEditorProps & { kind: ChannelKind }) {
  const words = useAdminT();
  const wrote = usePolledInbox(inbox.id, onChanged);
  return (
    <div class="inbox-layout">
      <div class="inbox-form">
        {kind === 'aliyun_sms' ? (
          <AliyunPush inbox={inbox} onChanged={wrote} />
        ) : kind === 'weibo' ? (
          <WebhookCard inbox={inbox} title={words.weiboWebhookTitle}>
            <p class="small" data-testid="webhook-hint">
              {words.weiboWebhookHint}
            </p>
          </WebhookCard>
        ) : (
          <WebhookCard inbox={inbox} title={words.wecomWebhookTitle} label={words.wecomCallbackUrl}>
            <p class="small" data-testid="webhook-hint">
              {words.wecomWebhookHint}
            </p>
          </WebhookCard>
        )}
        <ChannelForm kind={kind} inbox={inbox} teams={teams} onSaved={wrote} />
      </div>
      <div class="side-sticky">
        <ConnectionState inbox={inbox} />
      </div>
    </div>
  );
}
