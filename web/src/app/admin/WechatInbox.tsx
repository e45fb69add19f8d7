// A WeChat Official Account inbox: its developer credentials (AppID, AppSecret, the Token WeChat signs its calls
// with, the EncodingAESKey of safe mode), its reply window and, tucked away, the API base URL, for a new inbox or
// an edit; and beside an existing one, the webhook URL to paste into WeChat's server configuration with the same
// Token, and its connection state ("waiting" until WeChat's first signed call), polled while the page is open.
// Credentials are never shown: an edit leaves the boxes empty, and only a typed one is sent (wechatSettings.ts).
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import type { Inbox, Team } from '../types';
import { ConnectionState, Field, usePolledInbox, WebhookCard } from './parts';
import { TeamChecks } from './TeamChecks';
import { useAdminT } from './useAdminT';
import { attempt } from './useLoad';
import {
  DEFAULT_API_BASE_URL,
  emptyWechatForm,
  fieldOfError,
  problems,
  readWechat,
  safeMode,
  wechatSettings,
  type WechatField,
  type WechatForm as Form,
} from './wechatSettings';

/** A new WeChat inbox (inbox = null) or an edit of one; the server's 422 words show next to the save button. */
export function WechatForm({ inbox, teams, onSaved, onCancel }: { inbox: Inbox | null; teams: Team[]; onSaved: (i: Inbox) => void; onCancel?: () => void }) {
  const text = useT();
  const words = useAdminT();
  const creating = !inbox;
  const safe = !creating && safeMode(inbox.settings);
  const [name, setName] = useState(inbox?.name ?? '');
  const [teamIds, setTeamIds] = useState(inbox?.teams ?? []);
  const [f, setF] = useState<Form>(() => (inbox ? readWechat(inbox.settings) : emptyWechatForm()));
  const [advanced, setAdvanced] = useState(() => f.api_base_url !== DEFAULT_API_BASE_URL);
  const [invalid, setInvalid] = useState<WechatField[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const bad = (k: WechatField) => invalid.includes(k);
  // Typing into a field marked wrong takes its mark away; the message stays until the next save.
  const edit = (patch: Partial<Form>, ...fixed: WechatField[]) => {
    setF({ ...f, ...patch });
    setSaved(false);
    if (fixed.some(bad)) setInvalid(invalid.filter((k) => !fixed.includes(k)));
  };
  const mark = (wrong: WechatField[]) => {
    setInvalid(wrong);
    // The base URL is tucked away under "Advanced": a refusal of it opens it.
    if (wrong.includes('api_base_url')) setAdvanced(true);
  };
  const unchanged = creating ? undefined : text.passwordUnchanged;

  const save = async (e: Event) => {
    e.preventDefault();
    const wrong = problems(name, f, creating);
    mark(wrong);
    setSaved(false);
    if (wrong.length) {
      setError(text.checkFields(wrong.map((k) => text.wechatFields[k])));
      return;
    }
    setBusy(true);
    const err = await attempt(async () => {
      const body = { name: name.trim(), teams: teamIds, settings: wechatSettings(f) };
      const { inbox: next } = inbox ? await rest.updateInbox(inbox.id, body) : await rest.createInbox({ kind: 'wechat', ...body });
      // What was typed is stored now: the boxes go back to "unchanged" rather than keep a secret on screen.
      setF((cur) => ({ ...cur, app_secret: '', token: '', aes_key: '', safe_off: false }));
      onSaved(next);
    });
    setBusy(false);
    setError(err);
    setSaved(!err);
    const named = err ? fieldOfError(err) : null;
    if (named) mark([named]);
  };

  return (
    <form class="inbox-form" onSubmit={save} noValidate data-testid="wechat-form">
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
            data-testid="wechat-name"
          />
        </label>
        <TeamChecks
          teams={teams}
          value={teamIds}
          onChange={(ids) => {
            setTeamIds(ids);
            setSaved(false);
          }}
          testid="wechat-team"
        />
      </section>
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
      <details class="card advanced" open={advanced} onToggle={(e) => setAdvanced(e.currentTarget.open)}>
        <summary data-testid="wechat-advanced">{text.advanced}</summary>
        <Field
          class="row-label"
          label={text.apiBaseUrl}
          type="url"
          value={f.api_base_url}
          onInput={(api_base_url) => edit({ api_base_url }, 'api_base_url')}
          bad={bad('api_base_url')}
          hint={text.apiBaseUrlHint}
          testid="wechat-api-base"
        />
      </details>
      <div class="sticky-save">
        {error && (
          <div class="form-error" role="alert" data-testid="wechat-error">
            {error}
          </div>
        )}
        {saved && !creating && <span class="form-ok">{text.saved}</span>}
        {onCancel && (
          <button type="button" class="btn" onClick={onCancel}>
            {text.cancel}
          </button>
        )}
        <button type="submit" class="btn primary" disabled={busy} data-testid="wechat-save">
          {busy ? text.saving : creating ? text.create : text.save}
        </button>
      </div>
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
export function WechatInboxEditor({ inbox, teams, onChanged }: { inbox: Inbox; teams: Team[]; onChanged: (i: Inbox) => void }) {
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
