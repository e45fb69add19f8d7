// Boot: the session check, the 401 → login wiring, and the top-level routes (login, workspace, admin).
// The admin screens are a separate chunk loaded on first visit, so agents never download them.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { handleUnauthorized } from './api';
import { useStore, useT } from './hooks';
import { store } from './socket';
import { Login } from './components/Login';
import { Header } from './components/Header';
import { Workspace } from './components/Workspace';
import './style.css';

type AdminModule = typeof import('./admin/Admin');

function AdminRoute() {
  const [mod, setMod] = useState<AdminModule | null>(null);
  const [failed, setFailed] = useState(false);
  const text = useT();
  useEffect(() => {
    import('./admin/Admin').then(setMod, () => setFailed(true));
  }, []);
  if (failed) return <div class="empty-state">{text.error}</div>;
  if (!mod) return <div class="empty-state muted">{text.loading}</div>;
  return <mod.Admin />;
}

function App() {
  const s = useStore();
  const text = useT();
  if (s.booting) return <div class="splash">{text.loading}</div>;
  if (!s.me) return <Login />;
  const admin = s.path.startsWith('/app/admin');
  return (
    <div class="shell">
      <Header />
      {!s.online && (
        <div class="banner" role="status" data-testid="reconnecting">
          {text.reconnecting}
        </div>
      )}
      {admin ? <AdminRoute /> : <Workspace />}
    </div>
  );
}

handleUnauthorized(() => store.toLogin());
render(<App />, document.getElementById('root')!);
void store.boot();
