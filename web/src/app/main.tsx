// Boot: the session check, the 401 → login wiring, and the top-level routes (login, workspace, tickets, admin).
// The admin and ticket screens are separate chunks loaded on first visit, so the desk itself stays small.
import { render, type ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { handleUnauthorized } from './api';
import { useStore, useT } from './hooks';
import { store } from './socket';
import { Login } from './components/Login';
import { Header } from './components/Header';
import { Workspace } from './components/Workspace';
import { SlaPops } from './components/SlaPops';
import './style.css';

/** A screen from its own chunk: "Loading…" until it arrives, the error word if it cannot. */
function Lazy({ load }: { load: () => Promise<ComponentType> }) {
  const [Screen, setScreen] = useState<{ C: ComponentType } | null>(null);
  const [failed, setFailed] = useState(false);
  const text = useT();
  useEffect(() => {
    load().then((C) => setScreen({ C }), () => setFailed(true));
  }, [load]);
  if (failed) return <div class="empty-state">{text.error}</div>;
  if (!Screen) return <div class="empty-state muted">{text.loading}</div>;
  return <Screen.C />;
}

const loadAdmin = () => import('./admin/Admin').then((m) => m.Admin);
const loadTickets = () => import('./tickets/Tickets').then((m) => m.Tickets);

function App() {
  const s = useStore();
  const text = useT();
  if (s.booting) return <div class="splash">{text.loading}</div>;
  if (!s.me) return <Login />;
  const admin = s.path.startsWith('/app/admin');
  const tickets = s.path.startsWith('/app/tickets');
  return (
    <div class="shell">
      <Header />
      {!s.online && (
        <div class="banner" role="status" data-testid="reconnecting">
          {text.reconnecting}
        </div>
      )}
      {admin ? <Lazy key="admin" load={loadAdmin} /> : tickets ? <Lazy key="tickets" load={loadTickets} /> : <Workspace />}
      <SlaPops />
    </div>
  );
}

handleUnauthorized(() => store.toLogin());
render(<App />, document.getElementById('root')!);
void store.boot();
