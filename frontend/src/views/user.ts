// User page: header (with the user's site, number and staging), then tabs Licences (each licence: how it is held,
// state, error, add-ons on/off) | Properties | Audit.

import { toApiError } from '../api/client';
import type { User, UserLicence, UserProvisioning } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { numberTypeLabel } from '../lib/numbers';
import { isActive, STAGING_REFRESH_MS } from '../lib/staging';
import {
  accountLabel,
  describeLicenceError,
  heldBy,
  licenceInError,
  licenceName,
  licenceStateLabel,
  planList,
  planName,
  sortLicences,
} from '../lib/users';
import { href, type UserTab } from '../router';
import { errorAlert, facts, orDash, sleep, tabBar, time } from './common';
import { auditPanel } from './audit';
import { licenceActions } from './licenceActions';
import { stagingBadge } from './staging';
import { accountBadge, lastUsersHash, userStatusEl } from './users';

/** Where the user is provisioned: site, number (type, extension) and staging, as the API's provisioning block says. */
function provisioningFacts(p: UserProvisioning | null | undefined): [string, Node | string][] {
  const site = p?.siteId ? h('span', { 'data-testid': 'user-site', 'data-site-id': p.siteId }, p.siteName || `Site ${p.siteId} (gone)`) : h('span', { className: 'muted', 'data-testid': 'user-site' }, 'Not placed');
  const number = p?.number
    ? h(
        'span',
        { 'data-testid': 'user-number', 'data-number': p.number },
        h('span', { className: 'mono' }, p.number),
        h('span', { className: 'small muted' }, ` ${numberTypeLabel(p.numberType)}${p.extension ? ` · ext. ${p.extension}` : ''}`),
      )
    : h('span', { className: 'muted', 'data-testid': 'user-number' }, 'None');
  const st = p?.staging;
  const staging = st
    ? h(
        'span',
        { 'data-testid': 'user-staging' },
        stagingBadge(st.status),
        st.error ? h('span', { className: 'small text-error' }, ` ${st.error}`) : st.lastResult ? h('span', { className: 'small muted' }, ` ${st.lastResult}`) : null,
      )
    : h('span', { className: 'muted', 'data-testid': 'user-staging' }, 'Never staged');
  return [
    ['Site', site],
    ['Number', number],
    ['Staging', staging],
  ];
}

export function userView({ app, root, signal }: ViewProps, customerId: string, userId: string, tab: UserTab = 'licences'): void {
  const title = h('h1', {}, 'User');
  const subtitle = h('p', { className: 'muted mono' });
  const badges = h('div', { className: 'user-badges' });
  const telephony = h('div', { className: 'user-telephony', 'aria-label': 'Site and number' });
  const customerCrumb = h('a', { href: href({ name: 'customer', id: customerId }) }, 'Customer');
  const userCrumb = h('span', { 'aria-current': 'page' }, 'User');
  const licencesCount = h('span', { className: 'tab-count', hidden: true });
  const tabs = tabBar(
    'User sections',
    [
      { id: 'licences', label: 'Licences', href: href({ name: 'user', id: customerId, userId }) },
      { id: 'properties', label: 'Properties', href: href({ name: 'user', id: customerId, userId, tab: 'properties' }) },
      { id: 'audit', label: 'Audit', href: href({ name: 'user', id: customerId, userId, tab: 'audit' }) },
    ],
    tab,
  );
  tabs.querySelector('[data-tab="licences"]')?.append(licencesCount);
  const panel = h('section', { className: 'card tab-panel', 'aria-labelledby': 'user-panel-title' }, h('p', { className: 'muted' }, 'Loading…'));

  replace(
    root,
    h(
      'nav',
      { className: 'breadcrumb', 'aria-label': 'Breadcrumb' },
      h('a', { href: href({ name: 'customers' }) }, 'Customers'),
      ' / ',
      customerCrumb,
      ' / ',
      h('a', { href: lastUsersHash(customerId) }, 'Users'),
      ' / ',
      userCrumb,
    ),
    h('div', { className: 'page-head' }, title, subtitle, badges, telephony),
    tabs,
    panel,
  );

  function render(u: User): void {
    const name = u.displayName || u.userPrincipalName;
    replace(title, name);
    replace(userCrumb, name);
    replace(subtitle, u.userPrincipalName);
    document.title = `${name} · Seatwise`;
    replace(
      badges,
      accountBadge(u.accountEnabled),
      userStatusEl(u),
      u.hasErrors ? h('span', { className: 'badge badge-failed' }, 'Licence errors') : null,
      !u.licensed ? h('span', { className: 'badge' }, 'Unlicensed') : null,
    );
    replace(telephony, facts(provisioningFacts(u.provisioning), 'facts facts-inline'));
    const licences = sortLicences(u.licences);
    replace(licencesCount, String(licences.length));
    licencesCount.hidden = false;
    actions?.setUser(u);
    if (tab === 'properties') renderProperties(u);
    else if (tab === 'licences') renderLicences(licences);
  }

  function renderProperties(u: User): void {
    const phones = (u.businessPhones ?? []).filter((p) => p.trim() !== '');
    replace(
      panel,
      h('h2', { id: 'user-panel-title' }, 'Properties'),
      facts([
        ['User principal name', h('span', { className: 'mono' }, u.userPrincipalName)],
        ['Mail', orDash(u.mail)],
        ['Department', orDash(u.department)],
        ['Office', orDash(u.officeLocation)],
        ['City', orDash(u.city)],
        ['Country', orDash(u.country)],
        ['Usage location', orDash(u.usageLocation)],
        ['Business phones', phones.length > 0 ? h('span', {}, ...phones.flatMap((p, i) => (i > 0 ? [', ', p] : [p]))) : orDash('')],
        ['Account', accountLabel(u.accountEnabled)],
        ['Status', userStatusEl(u)],
        ['Last seen', time(u.lastSeenAt)],
        ...provisioningFacts(u.provisioning).map(([k, v]): [string, Node | string] => [k, v]),
        ['User id', h('span', { className: 'mono small' }, u.id)],
      ]),
    );
  }

  function licenceCard(l: UserLicence): HTMLElement {
    const inError = licenceInError(l);
    const held = heldBy(l);
    const { plans, on } = planList(l.plans);
    const headingId = `licence-${l.skuId}`;
    return h(
      'article',
      {
        className: inError ? 'licence licence-error' : 'licence',
        'aria-labelledby': headingId,
        'data-sku-id': l.skuId,
      },
      h(
        'header',
        { className: 'licence-head' },
        h('h3', { id: headingId }, licenceName(l)),
        h('span', { className: `badge ${inError ? 'badge-failed' : l.state === 'Active' ? 'badge-ok' : ''}`.trim(), 'data-licence-state': l.state }, licenceStateLabel(l.state)),
      ),
      inError
        ? h(
            'div',
            { className: 'alert alert-error licence-error-msg', role: 'note', 'data-error': l.error },
            h('strong', {}, l.error && l.error !== 'None' ? l.error : licenceStateLabel(l.state)),
            `: ${describeLicenceError(l.error)}`,
          )
        : null,
      facts(
        [
          ['Part number', h('span', { className: 'mono' }, l.partNumber || '—')],
          ['SKU id', h('span', { className: 'mono small' }, l.skuId)],
          ['Held', h('ul', { className: 'held', 'aria-label': 'How it is held' }, ...held.map((t) => h('li', { className: t === 'Direct' ? 'held-direct' : 'held-group' }, t)))],
          ['Error', l.error && l.error !== 'None' ? h('span', { className: 'text-error' }, l.error) : h('span', { className: 'muted' }, 'None')],
        ],
        'facts facts-compact',
      ),
      h(
        'div',
        { className: 'addons' },
        h('h4', {}, 'Add-ons ', h('span', { className: 'muted small' }, `${on} of ${plans.length} on`)),
        plans.length > 0
          ? h(
              'ul',
              { className: 'plans', 'aria-label': `Add-ons of ${licenceName(l)}` },
              ...plans.map((p) =>
                h(
                  'li',
                  { className: p.enabled ? 'plan plan-on' : 'plan plan-off', 'data-plan-id': p.id, 'data-enabled': String(p.enabled), title: p.name },
                  h('span', { className: 'plan-state', 'aria-hidden': 'true' }, p.enabled ? 'On' : 'Off'),
                  h('span', { className: 'plan-name' }, planName(p)),
                  h('span', { className: 'visually-hidden' }, p.enabled ? ': on' : ': off'),
                ),
              ),
            )
          : h('p', { className: 'muted small' }, 'No service plans.'),
      ),
      actions ? actions.cardActions(l) : null,
    );
  }

  function renderLicences(licences: UserLicence[]): void {
    replace(
      panel,
      h('h2', { id: 'user-panel-title' }, 'Licences'),
      h('p', { className: 'muted small' }, 'Add-ons are shown as they are in Microsoft 365.'),
      actions ? actions.toolbar : null,
      licences.length > 0
        ? h('div', { className: 'licence-list' }, ...licences.map(licenceCard))
        : h('p', { className: 'muted' }, 'This user holds no licences.'),
    );
  }

  // Licence changes for admins (null for a viewer: no edit controls); the page re-renders with the server's answer.
  const actions = licenceActions({ app, root, signal }, customerId, (u) => render(u));
  // The Audit tab is its own paged panel, filtered by the user.
  if (tab === 'audit') panel.replaceWith(auditPanel({ app, root, signal }, customerId, userId).el);

  void (async () => {
    // The customer's name for the breadcrumb; the page works without it.
    app.api
      .getCustomer(customerId, signal)
      .then((c) => {
        if (!signal.aborted) replace(customerCrumb, c.name);
      })
      .catch(() => {});
    let u: User;
    try {
      u = await app.api.getUser(customerId, userId, signal);
      if (signal.aborted) return;
      render(u);
    } catch (e) {
      if (signal.aborted) return;
      replace(panel, errorAlert(toApiError(e), 'Cannot load the user'));
      return;
    }
    // While the user is being staged, the site and number line follows it (only that line: the tabs stay as they are).
    while (!signal.aborted && isActive(u.provisioning?.staging?.status)) {
      await sleep(STAGING_REFRESH_MS, signal);
      if (signal.aborted) return;
      try {
        u = await app.api.getUser(customerId, userId, signal);
        if (!signal.aborted) replace(telephony, facts(provisioningFacts(u.provisioning), 'facts facts-inline'));
      } catch {
        // Try again on the next round.
      }
    }
  })();
}
