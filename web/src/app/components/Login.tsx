// The sign-in page: email and password, the server's own error words, and the language switch (remembered in
// this browser, so it applies before anyone has signed in).
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { useT } from '../hooks';
import { store } from '../socket';
import { LangSwitch } from './Header';

export function Login() {
  const text = useT();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { token, user } = await rest.login(email.trim(), password);
      store.signedIn(user, token);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <div class="login">
      <div class="login-lang">
        <LangSwitch />
      </div>
      <form class="login-card" onSubmit={submit}>
        <div class="brand brand-large">
          <span class="logo" aria-hidden="true">
            K
          </span>
          {text.appName}
        </div>
        <h1>{text.loginTitle}</h1>
        <p class="muted">{text.loginSubtitle}</p>
        <label>
          {text.email}
          <input
            type="email"
            autocomplete="username"
            required
            autofocus
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            data-testid="login-email"
          />
        </label>
        <label>
          {text.password}
          <input
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            data-testid="login-password"
          />
        </label>
        {error && (
          <div class="form-error" role="alert" data-testid="login-error">
            {error}
          </div>
        )}
        <button class="btn primary block" type="submit" disabled={busy} data-testid="login-submit">
          {busy ? text.signingIn : text.signIn}
        </button>
      </form>
    </div>
  );
}
