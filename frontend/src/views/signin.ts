// Sign-in: the local dev form ({"auth":"local"}) or the Cognito hosted UI ({"auth":"cognito"}).

import { toApiError } from '../api/client';
import type { AuthConfig, Role } from '../api/types';
import { beginCognitoLogin } from '../auth';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { parseScope } from '../lib/validate';
import { errorAlert } from './common';

const roles: { value: Role; label: string }[] = [
  { value: 'provider-admin', label: 'Provider admin' },
  { value: 'customer-admin', label: 'Customer admin' },
  { value: 'viewer', label: 'Viewer' },
];

export function signInView({ app, root, signal }: ViewProps): void {
  const body = h('div', { className: 'signin-body' }, h('p', { className: 'muted' }, 'Loading sign-in options…'));
  const notice = app.takeNotice();
  replace(
    root,
    h(
      'section',
      { className: 'signin card', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title' }, 'Sign in to Seatwise'),
      h('p', { className: 'muted' }, 'Microsoft 365 licence management for service providers.'),
      notice ? h('div', { className: 'alert alert-info', role: 'status' }, notice) : null,
      body,
    ),
  );

  const load = async (): Promise<void> => {
    try {
      const cfg = await app.loadConfig(signal);
      if (signal.aborted) return;
      renderFor(cfg);
    } catch (e) {
      if (signal.aborted) return;
      const retry = h('button', { type: 'button', className: 'btn' }, 'Try again');
      retry.addEventListener('click', () => {
        replace(body, h('p', { className: 'muted' }, 'Loading sign-in options…'));
        void load();
      });
      replace(body, errorAlert(toApiError(e), 'Cannot load the sign-in configuration'), retry);
    }
  };

  const renderFor = (cfg: AuthConfig): void => {
    if (cfg.auth === 'cognito') {
      const btn = h('button', { type: 'button', className: 'btn btn-primary btn-wide' }, 'Sign in with Cognito');
      btn.addEventListener('click', () => {
        window.location.assign(beginCognitoLogin(sessionStorage, cfg, window.location.origin));
      });
      replace(body, btn);
      return;
    }
    renderLocal(); // parseAuthConfig accepts no other method
  };

  const renderLocal = (): void => {
    const role = h(
      'select',
      { id: 'signin-role', name: 'role' },
      ...roles.map((r) => h('option', { value: r.value }, `${r.label} (${r.value})`)),
    );
    const scope = h('input', {
      id: 'signin-scope',
      name: 'scope',
      type: 'text',
      value: '*',
      autocomplete: 'off',
      'aria-describedby': 'signin-scope-help',
    });
    const name = h('input', { id: 'signin-name', name: 'name', type: 'text', value: 'Dev Admin', autocomplete: 'name' });
    const status = h('div', { className: 'form-status' });
    const submit = h('button', { type: 'submit', className: 'btn btn-primary btn-wide' }, 'Sign in');
    const form = h(
      'form',
      { className: 'form', 'aria-label': 'Local sign-in', novalidate: true },
      h('p', { className: 'alert alert-info' }, 'Local development sign-in: pick a role and a customer scope.'),
      h('div', { className: 'field' }, h('label', { for: 'signin-role' }, 'Role'), role),
      h(
        'div',
        { className: 'field' },
        h('label', { for: 'signin-scope' }, 'Scope'),
        scope,
        h('p', { id: 'signin-scope-help', className: 'help' }, '* for every customer, or customer ids separated by commas.'),
      ),
      h('div', { className: 'field' }, h('label', { for: 'signin-name' }, 'Name'), name),
      status,
      submit,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const scopes = parseScope(scope.value);
      if (scopes.length === 0) {
        replace(status, errorAlert('Scope is required: * or one or more customer ids.'));
        scope.focus();
        return;
      }
      submit.disabled = true;
      replace(status);
      app.api
        .devToken({
          role: role.value as Role,
          scope: scopes,
          name: name.value.trim() || 'Dev User',
        })
        .then((res) => {
          if (!res || typeof res.token !== 'string' || res.token === '') {
            throw new Error('the server returned no token');
          }
          app.signedIn(res.token);
        })
        .catch((e: unknown) => {
          submit.disabled = false;
          replace(status, errorAlert(toApiError(e), 'Sign-in failed'));
        });
    });
    replace(body, form);
  };

  void load();
}
