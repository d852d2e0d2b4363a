// App shell: sign-in state, the nav bar and the hash router.

import './style.css';
import { ApiClient, toApiError } from './api/client';
import type { AuthConfig, Me } from './api/types';
import {
  clearToken,
  cognitoLogoutUrl,
  getToken,
  readCallback,
  setReturnTo,
  setToken,
  takeReturnTo,
} from './auth';
import type { AppContext } from './context';
import { h, replace } from './lib/dom';
import { can } from './permissions';
import { href, parseRoute, type Route } from './router';
import { errorAlert } from './views/common';
import { customerView } from './views/customer';
import { customersView } from './views/customers';
import { dashboardView } from './views/dashboard';
import { exportsView } from './views/exports';
import { licencesView } from './views/licences';
import { signInView } from './views/signin';
import { userView } from './views/user';

const store = sessionStorage;
const appEl = document.getElementById('app') as HTMLElement;

let notice: string | null = null;
let current: AbortController | null = null;

const api = new ApiClient({
  getToken: () => getToken(store),
  onUnauthorized: () => {
    clearToken(store);
    app.me = null;
    notice = 'Your session has ended. Sign in again.';
    const r = parseRoute(location.hash);
    if (r.name !== 'signin') setReturnTo(store, location.hash);
    go('#/signin');
  },
});

const app: AppContext = {
  api,
  me: null,
  config: null as AuthConfig | null,
  async loadConfig(signal?: AbortSignal) {
    if (app.config) return app.config;
    const cfg = await api.loadConfig(signal);
    app.config = cfg;
    return cfg;
  },
  signedIn(token: string) {
    setToken(store, token);
    app.me = null;
    const back = takeReturnTo(store);
    const target = back && parseRoute(back).name !== 'signin' ? back : '#/customers';
    go(target);
  },
  signOut() {
    clearToken(store);
    app.me = null;
    const cfg = app.config;
    if (cfg?.auth === 'cognito') {
      window.location.assign(cognitoLogoutUrl(cfg, window.location.origin));
      return;
    }
    notice = 'You are signed out.';
    go('#/signin');
  },
  navigate: (hash: string) => go(hash),
  takeNotice() {
    const n = notice;
    notice = null;
    return n;
  },
};

/** Whether a hash names no route: the app's root. */
function isRootHash(hash: string): boolean {
  return /^#?\/?(\?.*)?$/.test(hash);
}

/** Goes to a route; re-renders even when the hash is already the target. */
function go(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

function navBar(route: Route, me: Me): HTMLElement {
  const link = (label: string, target: Route, active: boolean): HTMLElement =>
    h('a', { href: href(target), className: active ? 'active' : '', 'aria-current': active ? 'page' : null }, label);
  const signOut = h('button', { type: 'button', className: 'btn btn-ghost' }, 'Sign out');
  signOut.addEventListener('click', () => app.signOut());
  return h(
    'header',
    { className: 'topbar' },
    h('a', { href: '#/customers', className: 'brand' }, h('span', { className: 'brand-mark', 'aria-hidden': 'true' }, 'S'), 'Seatwise'),
    h(
      'nav',
      { className: 'mainnav', 'aria-label': 'Main' },
      link('Dashboard', { name: 'dashboard' }, route.name === 'dashboard'),
      link('Customers', { name: 'customers' }, route.name === 'customers' || route.name === 'customer' || route.name === 'user'),
      link('Licences', { name: 'licences' }, route.name === 'licences'),
      can(me.role, 'export:read') ? link('Exports', { name: 'exports' }, route.name === 'exports') : null,
    ),
    h(
      'div',
      { className: 'user', 'aria-label': 'Signed-in user' },
      h('span', { className: 'user-name' }, me.name || me.subject),
      h('span', { className: 'role-chip', 'data-role': me.role }, me.role),
      signOut,
    ),
  );
}

async function render(): Promise<void> {
  current?.abort();
  const ctrl = new AbortController();
  current = ctrl;
  const signal = ctrl.signal;
  const route = parseRoute(location.hash);
  const root = h('main', { id: 'main', className: 'content' });

  // Nothing talks to the API before /config.json says where it is (in AWS, not this origin).
  if (!app.config) {
    replace(appEl, h('p', { className: 'loading' }, 'Loading…'));
    try {
      await app.loadConfig(signal);
    } catch (e) {
      if (signal.aborted) return;
      const retry = h('button', { type: 'button', className: 'btn' }, 'Try again');
      retry.addEventListener('click', () => void render());
      replace(
        appEl,
        h('main', { className: 'content' }, errorAlert(toApiError(e), 'Cannot load the app configuration'), h('div', { className: 'actions' }, retry)),
      );
      return;
    }
    if (signal.aborted) return;
  }

  if (route.name === 'signin') {
    if (getToken(store)) {
      go('#/customers');
      return;
    }
    document.title = 'Sign in · Seatwise';
    replace(appEl, h('div', { className: 'signin-page' }, root));
    signInView({ app, root, signal });
    return;
  }

  if (!getToken(store)) {
    setReturnTo(store, location.hash || '#/customers');
    go('#/signin');
    return;
  }

  if (!app.me) {
    replace(appEl, h('p', { className: 'loading' }, 'Loading…'));
    try {
      app.me = await api.me(signal);
    } catch (e) {
      if (signal.aborted) return;
      const err = toApiError(e);
      if (err.status === 401) return; // onUnauthorized already went to sign-in
      const retry = h('button', { type: 'button', className: 'btn' }, 'Try again');
      retry.addEventListener('click', () => void render());
      const out = h('button', { type: 'button', className: 'btn btn-ghost' }, 'Sign out');
      out.addEventListener('click', () => app.signOut());
      replace(appEl, h('main', { className: 'content' }, errorAlert(err, 'Cannot load your profile'), h('div', { className: 'actions' }, retry, out)));
      return;
    }
    if (signal.aborted) return;
  }

  const me = app.me;
  // The app's root (no route in the hash) is the dashboard for provider admins, the customers list for the others.
  if (isRootHash(location.hash) && me.role === 'provider-admin') {
    history.replaceState(null, '', `${location.pathname}${location.search}#/dashboard`);
    void render();
    return;
  }
  replace(appEl, navBar(route, me), root);
  switch (route.name) {
    case 'dashboard':
      document.title = 'Dashboard · Seatwise';
      dashboardView({ app, root, signal });
      break;
    case 'customers':
      document.title = 'Customers · Seatwise';
      customersView({ app, root, signal });
      break;
    case 'customer':
      document.title = 'Customer · Seatwise';
      customerView({ app, root, signal }, route.id, route.tab ?? 'licences');
      break;
    case 'user':
      document.title = 'User · Seatwise';
      userView({ app, root, signal }, route.id, route.userId, route.tab ?? 'licences');
      break;
    case 'licences':
      document.title = 'Licences · Seatwise';
      licencesView({ app, root, signal });
      break;
    case 'exports':
      document.title = 'Exports · Seatwise';
      exportsView({ app, root, signal });
      break;
    case 'notfound':
      document.title = 'Not found · Seatwise';
      replace(root, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/customers' }, 'Go to customers')));
      break;
  }
}

function start(): void {
  // Returning from the Cognito hosted UI: the id token is in the fragment.
  const cb = readCallback(location.hash, store);
  if (cb.kind !== 'none') {
    if (cb.kind === 'token') {
      setToken(store, cb.token);
      const back = takeReturnTo(store);
      history.replaceState(null, '', `${location.pathname}${location.search}${back && parseRoute(back).name !== 'signin' ? back : '#/customers'}`);
    } else {
      notice = `Sign-in failed: ${cb.message}`;
      history.replaceState(null, '', `${location.pathname}${location.search}#/signin`);
    }
  }
  window.addEventListener('hashchange', () => void render());
  void render();
}

start();
