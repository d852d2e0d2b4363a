// Onboarding ("quick subscriber"): one form — pick users, a template, a site (or by the sites' criteria), a number
// (or by the site's policy; only with one user) — that licenses and stages them; then the live status of each user,
// polled from the staging records until every one is provisioned or failed, without reloading the page.

import { toApiError } from '../api/client';
import { listTemplates } from '../api/licensing';
import { listNumbers, listSites, listStaging, onboard } from '../api/provisioning';
import type { PhoneNumber, Site, Template, User } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { userName } from '../lib/licensing';
import { numberTypeLabel } from '../lib/numbers';
import { sortSites } from '../lib/sites';
import {
  isFinal,
  MAX_ONBOARD_USERS,
  onboardingDone,
  onboardStatus,
  onboardSummary,
  pollDelay,
  stagingNumber,
  stagingSiteId,
  usersToPoll,
  validateOnboard,
  type OnboardRow,
} from '../lib/staging';
import { can } from '../permissions';
import { href } from '../router';
import { sleep, table, time, type Panel } from './common';
import { refusal } from './licenceActions';
import { stagingBadge } from './staging';
import { userPicker } from './userPicker';

/** Free numbers offered in the number menu (the site's first ones, by number). */
export const NUMBER_CHOICES = 50;

function fieldError(id: string, msg: string | undefined): HTMLElement {
  return h('p', { id, className: 'field-error' }, msg ?? '');
}

/** The onboarding page of a customer (a section of the customer page, opened by "Onboard users"). */
export function onboardingPanel({ app, signal }: ViewProps, customerId: string): Panel {
  const el = h('section', { className: 'card tab-panel onboarding', 'aria-labelledby': 'onboard-title' }, h('h2', { id: 'onboard-title' }, 'Onboard users'));
  if (!can(app.me?.role, 'licence:edit')) {
    el.append(h('p', { className: 'muted' }, 'Only admins can onboard users. The Staging tab shows who is being provisioned.'));
    return { el, reload: async () => {} };
  }

  let sites: Site[] = [];
  let templates: Template[] = [];
  let users: User[] = [];
  let errs: Record<string, string> = {};
  const form = h('form', { className: 'form onboard-form', novalidate: true, 'aria-label': 'Onboard users' });
  const error = h('div', { className: 'onboard-error', 'aria-live': 'polite' });
  const live = h('div', { className: 'onboard-live' });
  const submit = h('button', { type: 'submit', className: 'btn btn-primary' }, 'Onboard');
  /** Stops following the previous onboarding when another one starts. */
  let following: AbortController | null = null;

  const templateSel = h('select', { id: 'onboard-template', name: 'templateId', 'aria-describedby': 'onboard-template-error onboard-template-help' }, h('option', { value: '' }, 'The site’s template'));
  const siteSel = h('select', { id: 'onboard-site', name: 'siteId', 'aria-describedby': 'onboard-site-help' }, h('option', { value: '' }, 'Automatic: by the sites’ criteria'));
  const numberSel = h('select', { id: 'onboard-number', name: 'number', 'aria-describedby': 'onboard-number-error onboard-number-help' }, h('option', { value: '' }, 'Automatic: by the site’s number policy'));
  const numberHelp = h('p', { id: 'onboard-number-help', className: 'help' });
  const templateErr = fieldError('onboard-template-error', '');
  const numberErr = fieldError('onboard-number-error', '');
  const usersErr = fieldError('onboard-users-error', '');

  const picker = userPicker({ app, signal }, customerId, {
    id: 'onboard-users',
    label: 'Users',
    multiple: true,
    max: MAX_ONBOARD_USERS,
    note: (u) => (u.licensed ? `Licensed${u.usageLocation ? ` · ${u.usageLocation}` : ''}` : `Unlicensed${u.usageLocation ? ` · ${u.usageLocation}` : ' · no usage location'}`),
    onChange: (us) => {
      users = us;
      replace(usersErr);
      syncNumber();
    },
  });

  /** The number menu is for one user only; it lists free numbers of the chosen site (or of every site). */
  function syncNumber(): void {
    const one = users.length === 1;
    numberSel.disabled = !one;
    if (!one) numberSel.value = '';
    replace(numberHelp, one ? 'A free number of the inventory, or let the site’s policy pick one.' : 'A number can be chosen when onboarding one user; otherwise the site’s policy picks.');
  }

  let numbersSeq = 0;
  async function loadNumbers(): Promise<void> {
    const my = ++numbersSeq;
    const keep = numberSel.value;
    try {
      const res = await listNumbers(app.api, customerId, { status: 'available', siteId: siteSel.value, limit: NUMBER_CHOICES }, signal);
      if (my !== numbersSeq || signal.aborted) return;
      const nums: PhoneNumber[] = res.items ?? [];
      replace(
        numberSel,
        h('option', { value: '' }, 'Automatic: by the site’s number policy'),
        ...nums.map((n) => h('option', { value: n.number, 'data-site-id': n.siteId }, `${n.number}${n.extension ? ` (ext. ${n.extension})` : ''} · ${numberTypeLabel(n.type)}${siteSel.value ? '' : n.siteId ? ` · ${sites.find((s) => s.id === n.siteId)?.name ?? ''}` : ''}`)),
      );
      numberSel.value = nums.some((n) => n.number === keep) ? keep : '';
    } catch {
      // The menu keeps "Automatic" only.
    }
    syncNumber();
  }

  function renderForm(): void {
    replace(templateErr, errs['templateId'] ?? '');
    replace(numberErr, errs['number'] ?? '');
    replace(usersErr, errs['userIds'] ?? '');
    templateSel.setAttribute('aria-invalid', errs['templateId'] ? 'true' : 'false');
    numberSel.setAttribute('aria-invalid', errs['number'] ? 'true' : 'false');
  }

  replace(
    form,
    picker.el,
    usersErr,
    h(
      'div',
      { className: 'form-row' },
      h('div', { className: 'field' }, h('label', { for: 'onboard-template' }, 'Template'), templateSel, h('p', { id: 'onboard-template-help', className: 'help' }, 'Its licences are given now; the users are then staged.'), templateErr),
      h('div', { className: 'field' }, h('label', { for: 'onboard-site' }, 'Site'), siteSel, h('p', { id: 'onboard-site-help', className: 'help' }, 'Where they are provisioned when they appear in Teams.')),
      h('div', { className: 'field' }, h('label', { for: 'onboard-number' }, 'Number'), numberSel, numberHelp, numberErr),
    ),
    h('div', { className: 'form-actions' }, submit),
  );
  el.append(
    h('p', { className: 'muted small' }, 'Licenses the users with the template, stages them, and provisions each one (site, number) the moment Microsoft Teams knows them. Their progress shows below; you can leave this page: the Staging tab follows them too.'),
    form,
    error,
    live,
  );
  siteSel.addEventListener('change', () => void loadNumbers());
  syncNumber();

  // -- Submit and follow

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    replace(error);
    const draft = { userIds: users.map((u) => u.id), templateId: templateSel.value, siteId: siteSel.value, number: numberSel.value };
    errs = validateOnboard(draft);
    renderForm();
    if (Object.keys(errs).length > 0) return;
    submit.disabled = true;
    submit.textContent = 'Onboarding…';
    following?.abort();
    const ctrl = new AbortController();
    following = ctrl;
    signal.addEventListener('abort', () => ctrl.abort(), { once: true });
    const rows: OnboardRow[] = users.map((u) => ({ userId: u.id, name: userName(u), result: null, staging: null }));
    const tpl = templates.find((t) => t.id === draft.templateId);
    const site = sites.find((s) => s.id === draft.siteId);
    const follow = liveView(rows, ctrl.signal, [
      `Template: ${tpl ? tpl.name : 'the site’s'}`,
      `Site: ${site ? site.name : 'by the criteria'}`,
      `Number: ${draft.number || 'by the site’s policy'}`,
    ]);
    replace(live, follow.el);
    void (async () => {
      try {
        const res = await onboard(app.api, customerId, draft);
        if (signal.aborted) return;
        for (const r of res.results ?? []) {
          const row = rows.find((x) => x.userId === r.userId);
          if (row) row.result = r;
        }
        // A user the answer does not mention did not get through.
        for (const row of rows) if (!row.result) row.result = { userId: row.userId, staged: false, status: 'failed', error: 'not in the answer' };
        picker.clear();
        follow.render();
        // Followed in the background: the form is free for the next users meanwhile.
        void follow.poll();
      } catch (e) {
        if (signal.aborted) return;
        const err = toApiError(e);
        replace(live);
        replace(error, refusal(err, 'Nobody was onboarded', (f) => (f === 'templateId' ? 'Template' : f === 'siteId' ? 'Site' : f === 'number' ? 'Number' : f)));
        if (Object.keys(err.fields).length > 0) {
          errs = err.fields;
          renderForm();
        }
      } finally {
        if (!signal.aborted) {
          submit.disabled = false;
          submit.textContent = 'Onboard';
        }
      }
    })();
  });

  /** The live status table of one onboarding. */
  function liveView(rows: OnboardRow[], stop: AbortSignal, what: string[]): { el: HTMLElement; render(): void; poll(): Promise<void> } {
    const headers = ['User', 'Status', 'Site', 'Number', 'Last result'];
    const { el: tableEl, body } = table('Onboarding status', headers, 'table-onboarding');
    const summary = h('p', { className: 'onboard-summary', role: 'status', 'aria-live': 'polite' });
    const el = h(
      'div',
      { className: 'onboard-status', 'data-done': 'false' },
      h('h3', {}, 'Status'),
      h('p', { className: 'small muted' }, what.join(' · ')),
      summary,
      h('div', { className: 'table-wrap' }, tableEl),
    );
    const siteName = (id: string): string => sites.find((s) => s.id === id)?.name ?? id;

    function render(): void {
      const done = onboardingDone(rows);
      el.dataset['done'] = String(done);
      replace(summary, rows.every((r) => r.result === null) ? 'Giving licences and staging…' : `${onboardSummary(rows)}${done ? '.' : '…'}`);
      replace(
        body,
        ...rows.map((r) => {
          const st = onboardStatus(r);
          const s = r.staging;
          const siteId = s ? stagingSiteId(s) : '';
          const number = s ? stagingNumber(s) : '';
          const why = r.result && !r.result.staged ? r.result.error || 'not staged' : s?.error || '';
          return h(
            'tr',
            { 'data-user-id': r.userId, 'data-staging-status': st },
            h('th', { scope: 'row' }, h('a', { href: href({ name: 'user', id: customerId, userId: r.userId }) }, r.name)),
            h('td', {}, st === 'pending' ? h('span', { className: 'badge', 'data-staging-status': 'pending' }, 'Sending…') : stagingBadge(st), why ? h('div', { className: 'small text-error' }, why) : null),
            h('td', { 'data-site-id': siteId || null }, siteId ? siteName(siteId) : h('span', { className: 'muted' }, isFinal(st) ? '—' : 'Not placed yet')),
            h('td', { className: 'mono', 'data-number': s?.assignedNumber || null }, number ? `${number}${s?.assignedNumber ? '' : ' (reserved)'}` : h('span', { className: 'muted' }, isFinal(st) ? '—' : 'Not yet')),
            h('td', { className: 'small' }, s?.lastResult || h('span', { className: 'muted' }, '—'), s?.lastCheckAt ? h('div', { className: 'muted' }, time(s.lastCheckAt)) : null),
          );
        }),
      );
    }

    async function poll(): Promise<void> {
      const started = Date.now();
      let failures = 0;
      while (!stop.aborted && !onboardingDone(rows)) {
        const ids = usersToPoll(rows);
        if (ids.length === 0) break;
        try {
          const page = await listStaging(app.api, customerId, { users: ids }, stop);
          if (stop.aborted) return;
          failures = 0;
          for (const s of page.items ?? []) {
            const row = rows.find((r) => r.userId === s.userId);
            if (row) row.staging = s;
          }
          render();
        } catch (e) {
          if (stop.aborted) return;
          if (++failures >= 5) {
            replace(summary, refusal(e, 'Cannot follow the onboarding any more; the Staging tab shows where each user is'));
            return;
          }
        }
        if (onboardingDone(rows)) break;
        await sleep(pollDelay(Date.now() - started), stop);
      }
      if (!stop.aborted) render();
    }

    render();
    return { el, render, poll };
  }

  // -- Menus

  async function reload(): Promise<void> {
    try {
      const [ts, ss] = await Promise.all([listTemplates(app.api, customerId, signal), listSites(app.api, customerId, signal)]);
      if (signal.aborted) return;
      templates = [...(ts.items ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      sites = sortSites(ss.items ?? []);
      const keepT = templateSel.value;
      replace(templateSel, h('option', { value: '' }, 'The site’s template'), ...templates.map((t) => h('option', { value: t.id }, t.name)));
      templateSel.value = templates.some((t) => t.id === keepT) ? keepT : '';
      const keepS = siteSel.value;
      replace(
        siteSel,
        h('option', { value: '' }, 'Automatic: by the sites’ criteria'),
        ...sites.map((s) => h('option', { value: s.id }, `${s.name}${s.default ? ' (default)' : ''}${s.allowStaging ? '' : ' — staging off'}`)),
      );
      siteSel.value = sites.some((s) => s.id === keepS) ? keepS : '';
      if (sites.length === 0) replace(error, h('div', { className: 'alert alert-warn' }, 'This customer has no sites yet: create one (a default site) on the Sites & settings tab first.'));
      await loadNumbers();
    } catch (e) {
      if (signal.aborted) return;
      replace(error, refusal(e, 'Cannot load the templates and sites'));
    }
  }

  void reload();
  setTimeout(() => picker.focus(), 0);
  return { el, reload };
}

/** The "Onboard users" action of the customer page (null when the role may not onboard). */
export function onboardButton(app: ViewProps['app'], customerId: string): HTMLElement | null {
  if (!can(app.me?.role, 'licence:edit')) return null;
  return h('a', { className: 'btn', href: href({ name: 'customer', id: customerId, tab: 'onboard' }) }, 'Onboard users');
}
