// A new inbox: the admin picks website chat (a name and teams; the widget is set up afterwards in its editor),
// email (the mailbox form), a WeChat Official Account or SMS on Twilio (their credentials; the webhook URL shows
// once the inbox exists), SMS on Aliyun, Weibo or WeCom customer service (their fields, channelSettings.ts), or an API integration (its reply URL; the secret shows once it exists). The server's
// refusal shows in place, in its own words.
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import { INBOX_KINDS, type Inbox, type InboxKind, type Team } from '../types';
import { ApiForm } from './ApiInbox';
import { ChannelForm } from './ChannelInbox';
import { isChannelKind } from './channelSettings';
import { EmailForm } from './EmailInbox';
import { useAdminT } from './useAdminT';
import { SmsForm } from './SmsInbox';
import { TeamChecks } from './TeamChecks';
import { WechatForm } from './WechatInbox';
import { attempt } from './useLoad';

function NewWebInbox({ teams, onCreated, onCancel }: { teams: Team[]; onCreated: (i: Inbox) => void; onCancel: () => void }) {
  const text = useT();
  const [name, setName] = useState('');
  const [teamIds, setTeamIds] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const err = await attempt(async () => onCreated((await rest.createInbox({ kind: 'web', name: name.trim(), teams: teamIds })).inbox));
    setBusy(false);
    setError(err);
  };
  return (
    <form class="card" onSubmit={create}>
      <label class="row-label">
        {text.name}
        <input required value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="new-inbox-name" />
      </label>
      <TeamChecks teams={teams} value={teamIds} onChange={setTeamIds} testid="new-inbox-team" />
      {error && (
        <div class="form-error" role="alert" data-testid="new-inbox-error">
          {error}
        </div>
      )}
      <div class="form-end gap">
        <button type="button" class="btn" onClick={onCancel}>
          {text.cancel}
        </button>
        <button type="submit" class="btn primary" disabled={busy || !name.trim()} data-testid="new-inbox-create">
          {text.create}
        </button>
      </div>
    </form>
  );
}

export function NewInbox({ teams, onCreated, onCancel }: { teams: Team[]; onCreated: (i: Inbox) => void; onCancel: () => void }) {
  const text = useT();
  const words = useAdminT();
  const [kind, setKind] = useState<InboxKind>('web');
  const hints: Record<InboxKind, string> = {
    web: text.webInboxHint,
    email: text.emailInboxHint,
    wechat: text.wechatInboxHint,
    wecom: words.wecomInboxHint,
    weibo: words.weiboInboxHint,
    twilio_sms: words.smsInboxHint,
    aliyun_sms: words.aliyunInboxHint,
    api: words.apiInboxHint,
  };
  return (
    <div class="inbox-form new-inbox" data-testid="new-inbox-form">
      <section class="card">
        <h3>{text.newInbox}</h3>
        <label class="row-label">
          {text.inboxKind}
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value as InboxKind)} data-testid="new-inbox-kind">
            {INBOX_KINDS.map((k) => (
              <option value={k}>{text.inboxKinds[k]}</option>
            ))}
          </select>
        </label>
        <p class="muted small" data-testid="new-inbox-hint">
          {hints[kind]}
        </p>
      </section>
      {kind === 'email' ? (
        <EmailForm key="email" inbox={null} teams={teams} onSaved={onCreated} onCancel={onCancel} />
      ) : kind === 'wechat' ? (
        <WechatForm key="wechat" inbox={null} teams={teams} onSaved={onCreated} onCancel={onCancel} />
      ) : kind === 'twilio_sms' ? (
        <SmsForm key="sms" inbox={null} teams={teams} onSaved={onCreated} onCancel={onCancel} />
      ) : isChannelKind(kind) ? (
        <ChannelForm key={kind} kind={kind} inbox={null} teams={teams} onSaved={onCreated} onCancel={onCancel} />
      ) : kind === 'api' ? (
        <ApiForm key="api" inbox={null} teams={teams} onSaved={onCreated} onCancel={onCancel} />
      ) : (
        <NewWebInbox key="web" teams={teams} onCreated={onCreated} onCancel={onCancel} />
      )}
    </div>
  );
}
