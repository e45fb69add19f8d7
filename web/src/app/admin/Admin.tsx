// Admin screens (a lazily loaded chunk, so agents never download them): agents, teams with their business
// hours, inboxes with the widget's settings, canned replies, SLA policies, and outbound webhooks. Supervisors may
// look (webhooks excepted: their secrets are for admins only); the server refuses their writes, and the screens
// show its words.
import { useT } from '../hooks';
import { store } from '../socket';
import { Agents } from './Agents';
import { Canned } from './Canned';
import { Inboxes } from './Inboxes';
import { Sla } from './Sla';
import { Teams } from './Teams';
import { Webhooks } from './Webhooks';
import './admin.css';

const TABS = ['agents', 'teams', 'inboxes', 'canned', 'sla', 'webhooks'] as const;

export function Admin() {
  const text = useT();
  const tab = TABS.find((t) => store.path.startsWith(`/app/admin/${t}`)) ?? 'agents';
  return (
    <main class="admin">
      <nav class="admin-nav">
        <h2>{text.admin}</h2>
        {TABS.map((t) => (
          <a
            href={`/app/admin/${t}`}
            class={t === tab ? 'on' : ''}
            onClick={(e) => {
              e.preventDefault();
              store.navigate(`/app/admin/${t}`);
            }}
            data-testid={`admin-tab-${t}`}
          >
            {text.adminTabs[t]}
          </a>
        ))}
      </nav>
      <div class="admin-body">
        {store.me?.role !== 'admin' && <div class="notice">{text.adminReadOnly}</div>}
        {tab === 'agents' && <Agents />}
        {tab === 'teams' && <Teams />}
        {tab === 'inboxes' && <Inboxes />}
        {tab === 'canned' && <Canned />}
        {tab === 'sla' && <Sla />}
        {tab === 'webhooks' && <Webhooks />}
      </div>
    </main>
  );
}
