import { escapeHtml, renderPage } from './html.js';

export interface LoginPageInput {
  mode: 'token' | 'basic';
  /** Where to go after signing in (already validated by `safeNext`). */
  next: string;
  error?: string;
}

/** The sign-in form: plain HTML, works without JavaScript, posts to /login on this origin only. */
export function renderLoginPage(input: LoginPageInput): string {
  const fields =
    input.mode === 'token'
      ? `<label for="token">Dashboard token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>`
      : `<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>`;
  const error = input.error ? `<div class="alert error" role="alert">${escapeHtml(input.error)}</div>` : '';
  return renderPage({
    title: 'Sign in',
    body: `<form class="login card" method="post" action="/login">
<h1>Sign in</h1>
<p class="muted">The dashboard can trigger scans and rotations, so it needs the ${input.mode === 'token' ? 'dashboard token' : 'dashboard credentials'} from the daemon's configuration.</p>
${error}
<input type="hidden" name="next" value="${escapeHtml(input.next)}">
${fields}
<button type="submit">Sign in</button>
</form>`,
  });
}

/**
 * A post-login destination that stays on this server: a path starting with one `/` (not `//`
 * or `/\`, which browsers treat as another host), no control characters, not the login itself.
 */
export function safeNext(value: unknown, fallback = '/inventory'): string {
  if (typeof value !== 'string' || value.length > 2000) return fallback;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback;
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return fallback;
  if (value === '/login' || value.startsWith('/login?') || value.startsWith('/logout')) return fallback;
  return value;
}
