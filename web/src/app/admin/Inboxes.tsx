// Inboxes: the list (each with its kind, and a channel inbox's connection dot), a new inbox of any kind, and the
// open inbox's editor: for website chat its name, answering teams and the widget's settings (colour, side,
// language, greeting, pre-chat form, working hours, offline message) with a live preview, the embed snippet and
// the identity secret; for email the mailbox settings and connection state (EmailInbox.tsx); for a WeChat
// Official Account its credentials, reply window, webhook URL and connection state (WechatInbox.tsx); for SMS
// the Twilio account, sender, webhook URL and connection state (SmsInbox.tsx); for an API integration its reply
// URL, secret, usage and connection state (ApiInbox.tsx); for SMS on Aliyun, Weibo and WeCom customer service their
// fields, the URLs to paste into the provider's console and connection state (ChannelInbox.tsx).
import { useEffect, useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import { t as dictionary } from '../i18n';
import { type Inbox, type Lang, type Localised, type PreChatField, type Team, type WidgetSettings } from '../types';
import { BUILT_IN_FIELDS, isHexColor, mergeWidget, readWidget } from './widgetSettings';
import { attempt, useLoad } from './useLoad';
import { HoursEditor } from './HoursEditor';
import { ApiInboxEditor } from './ApiInbox';
import { ChannelInboxEditor } from './ChannelInbox';
import { isChannelKind } from './channelSettings';
import { EmailInboxEditor } from './EmailInbox';
import { NewInbox } from './NewInbox';
import { CopyButton, SaveBar, StateDot } from './parts';
import { SmsInboxEditor } from './SmsInbox';
import { WechatInboxEditor } from './WechatInbox';
import { TeamChecks } from './TeamChecks';

function LocalisedInputs({ value, onChange, multiline, testid }: { value: Localised; onChange: (v: Localised) => void; multiline?: boolean; testid: string }) {
  const text = useT();
  const langs: [Lang, string][] = [
    ['zh-CN', text.inChinese],
    ['en', text.inEnglish],
  ];
  return (
    <div class="pair">
      {langs.map(([lang, label]) => (
        <label>
          <span class="small muted">{label}</span>
          {multiline ? (
            <textarea rows={2} maxLength={500} value={value[lang]} onInput={(e) => onChange({ ...value, [lang]: e.currentTarget.value })} data-testid={`${testid}-${lang}`} />
          ) : (
            <input maxLength={500} value={value[lang]} onInput={(e) => onChange({ ...value, [lang]: e.currentTarget.value })} data-testid={`${testid}-${lang}`} />
          )}
        </label>
      ))}
    </div>
  );
}

function PreChatEditor({ w, set }: { w: WidgetSettings; set: (w: WidgetSettings) => void }) {
  const text = useT();
  const fields = w.pre_chat.fields;
  const setFields = (f: PreChatField[]) => set({ ...w, pre_chat: { ...w.pre_chat, fields: f } });
  const move = (i: number, d: number) => {
    const next = [...fields];
    [next[i], next[i + d]] = [next[i + d], next[i]];
    setFields(next);
  };
  return (
    <fieldset>
      <legend>{text.preChat}</legend>
      <label class="check">
        <input type="checkbox" checked={w.pre_chat.enabled} onChange={(e) => set({ ...w, pre_chat: { ...w.pre_chat, enabled: e.currentTarget.checked } })} data-testid="prechat-enabled" />
        {text.preChatEnabled}
      </label>
      {fields.map((f, i) => (
        <div class="prechat-field" key={i} data-testid="prechat-field">
          <input class="key" value={f.key} placeholder={text.fieldKey} list="builtin-fields" aria-label={text.fieldKey} onInput={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, key: e.currentTarget.value } : x)))} />
          <input value={f.label['zh-CN']} placeholder={text.labelZh} aria-label={text.labelZh} onInput={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, label: { ...x.label, 'zh-CN': e.currentTarget.value } } : x)))} />
          <input value={f.label.en} placeholder={text.labelEn} aria-label={text.labelEn} onInput={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, label: { ...x.label, en: e.currentTarget.value } } : x)))} />
          <label class="check small">
            <input type="checkbox" checked={f.required} onChange={(e) => setFields(fields.map((x, j) => (j === i ? { ...x, required: e.currentTarget.checked } : x)))} />
            {text.required}
          </label>
          <button type="button" class="icon-btn" title={text.moveUp} aria-label={text.moveUp} disabled={i === 0} onClick={() => move(i, -1)}>
            ↑
          </button>
          <button type="button" class="icon-btn" title={text.moveDown} aria-label={text.moveDown} disabled={i === fields.length - 1} onClick={() => move(i, 1)}>
            ↓
          </button>
          <button type="button" class="icon-btn" title={text.remove} aria-label={text.remove} onClick={() => setFields(fields.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <datalist id="builtin-fields">
        {BUILT_IN_FIELDS.map((k) => (
          <option value={k} />
        ))}
      </datalist>
      {fields.length < 10 && (
        <button
          type="button"
          class="btn small"
          onClick={() => {
            const free = BUILT_IN_FIELDS.find((k) => !fields.some((f) => f.key === k)) ?? '';
            setFields([...fields, { key: free, required: false, label: { 'zh-CN': '', en: '' } }]);
          }}
          data-testid="prechat-add"
        >
          + {text.addField}
        </button>
      )}
    </fieldset>
  );
}

/** A mock of the launcher and the chat panel, in the inbox's colour, side and language. */
function Preview({ w }: { w: WidgetSettings }) {
  const text = useT();
  const [lang, setLang] = useState<Lang>(w.language === 'auto' ? (document.documentElement.lang as Lang) || 'en' : w.language);
  useEffect(() => {
    if (w.language !== 'auto') setLang(w.language);
  }, [w.language]);
  const words = dictionary(lang);
  const color = isHexColor(w.color) ? w.color : '#1677ff';
  const fields = w.pre_chat.enabled ? w.pre_chat.fields : [];
  const builtIn: Record<string, string> = { name: lang === 'zh-CN' ? '姓名' : 'Name', email: lang === 'zh-CN' ? '邮箱' : 'Email', phone: lang === 'zh-CN' ? '电话' : 'Phone' };
  return (
    <div class="preview-wrap" data-testid="widget-preview">
      <div class="preview-head">
        <h3>{text.preview}</h3>
        <div class="seg-group">
          {(['zh-CN', 'en'] as Lang[]).map((l) => (
            <button type="button" class={`seg ${l === lang ? 'on' : ''}`} onClick={() => setLang(l)}>
              {text.langNames[l]}
            </button>
          ))}
        </div>
      </div>
      <div class={`preview-stage ${w.position}`}>
        <div class="pv-panel">
          <div class="pv-header" style={{ background: color }}>
            {words.previewTitle}
            <span>×</span>
          </div>
          <div class="pv-body">
            <div class="pv-msg">{w.greeting[lang] || words.previewGreeting}</div>
            {fields.length > 0 && (
              <div class="pv-form">
                {fields.map((f) => (
                  <label>
                    <span>
                      {f.label[lang] || builtIn[f.key] || f.key}
                      {f.required ? ' *' : ''}
                    </span>
                    <span class="pv-input" />
                  </label>
                ))}
                <span class="pv-button" style={{ background: color }}>
                  {words.previewStart}
                </span>
              </div>
            )}
          </div>
          <div class="pv-composer">
            <span class="pv-input">{words.previewPlaceholder}</span>
            <span class="pv-send" style={{ background: color }}>
              {words.send}
            </span>
          </div>
        </div>
        <div class="pv-launcher" style={{ background: color }} aria-hidden="true">
          <svg viewBox="0 0 24 24" width="26" height="26" fill="#fff">
            <path d="M12 3C6.5 3 2 6.6 2 11c0 2.4 1.3 4.6 3.4 6.1L4.5 21l4.3-2.3c1 .2 2.1.3 3.2.3 5.5 0 10-3.6 10-8S17.5 3 12 3z" />
          </svg>
        </div>
      </div>
    </div>
  );
}

function Identity({ inbox, onChanged }: { inbox: Inbox; onChanged: (i: Inbox) => void }) {
  const text = useT();
  const [shown, setShown] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const secret = inbox.identity_secret;
  return (
    <section class="card" data-testid="identity">
      <h3>{text.identity}</h3>
      <p class="muted small">{text.identityHint}</p>
      {secret === undefined ? (
        <p class="muted small">{text.secretUnavailable}</p>
      ) : (
        <div class="secret-row">
          <code class="secret" data-testid="identity-secret">
            {secret ? (shown ? secret : '•'.repeat(Math.min(secret.length, 32))) : text.noSecret}
          </code>
          {secret && (
            <>
              <button type="button" class="btn small" onClick={() => setShown(!shown)}>
                {shown ? text.hide : text.show}
              </button>
              <CopyButton value={secret} />
            </>
          )}
          <button
            type="button"
            class="btn small"
            onClick={async () => {
              if (secret && !confirm(text.confirmSecret)) return;
              const err = await attempt(async () => onChanged((await rest.newIdentitySecret(inbox.id)).inbox));
              setError(err);
            }}
            data-testid="identity-generate"
          >
            {text.generateSecret}
          </button>
        </div>
      )}
      {error && <div class="form-error">{error}</div>}
      <pre class="code">{`// Node.js, on your server
const hash = crypto.createHmac('sha256', secret).update(user.id).digest('hex');
// in the page
Kefu.setUser({ id: user.id, name: user.name, email: user.email, hash });`}</pre>
    </section>
  );
}

function InboxEditor({ inbox, teams, onSaved }: { inbox: Inbox; teams: Team[]; onSaved: (i: Inbox) => void }) {
  const text = useT();
  const [name, setName] = useState(inbox.name);
  const [teamIds, setTeamIds] = useState(inbox.teams);
  const [w, setW] = useState(() => readWidget(inbox.settings));
  const [formOn, setFormOn] = useState(() => (inbox.settings?.ticket_form as { enabled?: boolean } | undefined)?.enabled === true);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const snippet = `<script src="${location.origin}/widget.js" data-token="${inbox.widget_token ?? ''}" async></script>`;
  const set = (next: WidgetSettings) => {
    setW(next);
    setSaved(false);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const err = await attempt(async () => {
      const { inbox: next } = await rest.updateInbox(inbox.id, { name: name.trim(), teams: teamIds, settings: { ...mergeWidget(inbox.settings, w), ticket_form: { enabled: formOn } } });
      onSaved(next);
    });
    setBusy(false);
    setError(err);
    setSaved(!err);
  };

  return (
    <div class="inbox-layout">
      <form class="inbox-form" onSubmit={save} data-testid="inbox-form">
        <section class="card">
          <label class="row-label">
            {text.name}
            <input required value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="inbox-name" />
          </label>
          <TeamChecks teams={teams} value={teamIds} onChange={setTeamIds} testid="inbox-team" />
        </section>
        <section class="card">
          <h3>{text.widget}</h3>
          <div class="form-grid plain">
            <label>
              {text.color}
              <span class="color-row">
                <input type="color" value={isHexColor(w.color) ? w.color : '#1677ff'} onInput={(e) => set({ ...w, color: e.currentTarget.value })} />
                <input value={w.color} onInput={(e) => set({ ...w, color: e.currentTarget.value })} data-testid="widget-color" />
              </span>
            </label>
            <label>
              {text.position}
              <select value={w.position} onChange={(e) => set({ ...w, position: e.currentTarget.value as 'left' | 'right' })} data-testid="widget-position">
                <option value="right">{text.positions.right}</option>
                <option value="left">{text.positions.left}</option>
              </select>
            </label>
            <label>
              {text.widgetLanguage}
              <select value={w.language} onChange={(e) => set({ ...w, language: e.currentTarget.value as WidgetSettings['language'] })} data-testid="widget-language">
                <option value="auto">{text.auto}</option>
                <option value="zh-CN">中文</option>
                <option value="en">English</option>
              </select>
            </label>
          </div>
          <fieldset>
            <legend>
              {text.greeting} <span class="muted small">({text.builtInText})</span>
            </legend>
            <LocalisedInputs value={w.greeting} onChange={(greeting) => set({ ...w, greeting })} testid="widget-greeting" />
          </fieldset>
          <PreChatEditor w={w} set={set} />
          <HoursEditor
            value={w.working_hours}
            onChange={(working_hours) => set({ ...w, working_hours })}
            legend={text.workingHours}
            enabledLabel={text.workingHoursEnabled}
          />
          <fieldset>
            <legend>
              {text.offlineMessage} <span class="muted small">({text.builtInText})</span>
            </legend>
            <LocalisedInputs value={w.offline_message} onChange={(offline_message) => set({ ...w, offline_message })} multiline testid="widget-offline" />
          </fieldset>
        </section>
        <SaveBar error={error} saved={saved} busy={busy} creating={false} testid="inbox" />
        {inbox.widget_token && (
          <section class="card">
            <h3>{text.ticketForm}</h3>
            <p class="muted small">{text.ticketFormHint}</p>
            <label class="check">
              <input
                type="checkbox"
                checked={formOn}
                onChange={(e) => {
                  setFormOn(e.currentTarget.checked);
                  setSaved(false);
                }}
                data-testid="ticket-form-enabled"
              />
              {text.ticketFormEnabled}
            </label>
            {formOn && (
              <p>
                <a href={`/forms/${inbox.widget_token}`} target="_blank" rel="noopener noreferrer" data-testid="ticket-form-link">
                  {`${location.origin}/forms/${inbox.widget_token}`}
                </a>
              </p>
            )}
          </section>
        )}
        {inbox.widget_token && (
          <section class="card">
            <h3>{text.snippet}</h3>
            <p class="muted small">{text.snippetHint}</p>
            <div class="snippet-row">
              <code class="code snippet" data-testid="widget-snippet">
                {snippet}
              </code>
              <CopyButton value={snippet} testid="widget-snippet-copy" />
            </div>
          </section>
        )}
        <Identity inbox={inbox} onChanged={onSaved} />
      </form>
      <Preview w={w} />
    </div>
  );
}

export function Inboxes() {
  const text = useT();
  const inboxes = useLoad(() => rest.inboxes());
  const teams = useLoad(() => rest.teams());
  const [selected, setSelected] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  // Inboxes created or changed here since the list was loaded: they win over the loaded copies.
  const [local, setLocal] = useState<Record<string, Inbox>>({});
  if (inboxes.error) return <div class="form-error">{inboxes.error}</div>;
  if (!inboxes.data) return <p class="muted">{text.loading}</p>;
  const loaded = inboxes.data.inboxes;
  const added = Object.values(local).filter((i) => !loaded.some((x) => x.id === i.id));
  const list = [...loaded, ...added].map((i) => local[i.id] ?? i);
  const inbox = list.find((i) => i.id === selected) ?? list[0];
  // Functional: the channel editors report polled states from a timer, which must not drop other edits.
  const changed = (i: Inbox) => setLocal((l) => ({ ...l, [i.id]: i }));
  const teamList = teams.data?.teams ?? [];
  return (
    <div class="admin-section">
      <div class="inbox-bar">
        {list.length > 0 && (
          <div class="inbox-picker" role="tablist">
            {list.map((i) => (
              <button
                type="button"
                role="tab"
                aria-selected={!creating && i.id === inbox?.id}
                class={`seg ${!creating && i.id === inbox?.id ? 'on' : ''}`}
                onClick={() => {
                  setSelected(i.id);
                  setCreating(false);
                }}
                data-testid="inbox-pick"
                data-inbox-id={i.id}
                data-kind={i.kind}
              >
                {i.kind !== 'web' && <StateDot state={i.channel_state} />}
                {i.name}
                <span class="kind-tag">{text.inboxKindTags[i.kind] ?? i.kind}</span>
              </button>
            ))}
          </div>
        )}
        <button type="button" class="btn" disabled={creating} onClick={() => setCreating(true)} data-testid="new-inbox">
          + {text.newInbox}
        </button>
      </div>
      {creating ? (
        <NewInbox
          teams={teamList}
          onCreated={(i) => {
            changed(i);
            setSelected(i.id);
            setCreating(false);
          }}
          onCancel={() => setCreating(false)}
        />
      ) : !inbox ? (
        <p class="muted">{text.noInboxes}</p>
      ) : inbox.kind === 'email' ? (
        <EmailInboxEditor key={inbox.id} inbox={inbox} teams={teamList} onChanged={changed} />
      ) : inbox.kind === 'wechat' ? (
        <WechatInboxEditor key={inbox.id} inbox={inbox} teams={teamList} onChanged={changed} />
      ) : inbox.kind === 'twilio_sms' ? (
        <SmsInboxEditor key={inbox.id} inbox={inbox} teams={teamList} onChanged={changed} />
      ) : isChannelKind(inbox.kind) ? (
        <ChannelInboxEditor key={inbox.id} kind={inbox.kind} inbox={inbox} teams={teamList} onChanged={changed} />
      ) : inbox.kind === 'api' ? (
        <ApiInboxEditor key={inbox.id} inbox={inbox} teams={teamList} onChanged={changed} />
      ) : (
        <InboxEditor key={inbox.id} inbox={inbox} teams={teamList} onSaved={changed} />
      )}
    </div>
  );
}
