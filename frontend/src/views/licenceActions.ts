// Licence changes on the user page (customer admins and above; a viewer gets none of this): assign a licence with
// its add-ons, change the add-ons of a held licence, remove one, reassign a seat to another user, offboard. Each
// dialog says what is known before the change is sent, and every refusal shows the server's message and field errors.

import { toApiError } from '../api/client';
import { assignLicence, changeAddons, offboardUser, reassignLicence, reassignOfError, removeLicence } from '../api/licensing';
import type { LicenceResult, Sku, User, UserLicence } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import {
  addonsSummary,
  assignPrechecks,
  blocked,
  disabledPlans,
  isOn,
  licenceWithAddons,
  listWords,
  offboardPlan,
  reassignPrechecks,
  removeBlockedReason,
  sameAddons,
  setToggle,
  skuName,
  skuOptionLabel,
  sortPlans,
  togglesAllOn,
  togglesOf,
  userName,
  type AddonToggles,
  type PlanRef,
  type Precheck,
} from '../lib/licensing';
import { offboardSummary, reassignSummary, type Summary } from '../lib/results';
import { licenceName, planName } from '../lib/users';
import { can } from '../permissions';

// ---- Pieces shared with the templates and audit views.

/**
 * A refusal: the server's message, then its field errors (field: message; `label` names a field, e.g. a skuId by
 * the SKU's name), with data-code for tests.
 */
export function refusal(err: unknown, prefix = '', label: (field: string) => string = (f) => f): HTMLElement {
  const e = toApiError(err);
  const fields = Object.entries(e.fields);
  return h(
    'div',
    { className: 'alert alert-error refusal', role: 'alert', 'data-code': e.code, 'data-status': String(e.status) },
    h('span', { className: 'refusal-msg' }, prefix ? `${prefix}: ${e.message}` : e.message),
    fields.length > 0
      ? h('ul', { className: 'field-errors', 'aria-label': 'Field errors' }, ...fields.map(([k, v]) => h('li', { 'data-field': k }, label(k) === k ? h('code', {}, k) : label(k), `: ${v}`)))
      : null,
  );
}

/** A result box: green when everything went through, amber when part of it did not, red when nothing did. */
export function summaryBox(s: Summary): HTMLElement {
  const cls = s.level === 'ok' ? 'alert-success' : s.level === 'partial' ? 'alert-warn' : 'alert-error';
  return h(
    'div',
    { className: `alert ${cls} result`, role: s.level === 'ok' ? 'status' : 'alert', 'data-outcome': s.level },
    h('strong', { className: 'result-title' }, s.title),
    s.lines.length > 0 ? h('ul', {}, ...s.lines.map((l) => h('li', {}, l))) : null,
  );
}

/** The pre-checks of a change, most serious first; empty when nothing is known against it. */
export function precheckList(cs: readonly Precheck[]): HTMLElement | null {
  if (cs.length === 0) return null;
  return h(
    'ul',
    { className: 'prechecks', 'aria-label': 'Before you submit' },
    ...cs.map((c) => h('li', { className: `precheck precheck-${c.level}`, 'data-check': c.kind }, c.message)),
  );
}

/** One add-on as an on/off switch labelled by its friendly name. */
export function addonSwitch(p: PlanRef, on: boolean, onChange: (on: boolean) => void, idPrefix: string): HTMLElement {
  const id = `${idPrefix}-${p.id}`;
  const input = h('input', { type: 'checkbox', role: 'switch', id, 'data-plan-id': p.id, checked: on });
  const state = h('span', { className: 'switch-state', 'aria-hidden': 'true' }, on ? 'On' : 'Off');
  input.addEventListener('change', () => {
    replace(state, input.checked ? 'On' : 'Off');
    onChange(input.checked);
  });
  return h(
    'li',
    { className: 'addon-switch' },
    input,
    h('label', { for: id, title: p.name }, planName(p)),
    state,
  );
}

/** The add-on switches of a SKU's plans; reports every change with the new toggles. */
export function addonSwitches(
  plans: readonly PlanRef[],
  initial: AddonToggles,
  onChange: (t: AddonToggles) => void,
  label: string,
  idPrefix: string,
): HTMLElement {
  let toggles = initial;
  const list = sortPlans(plans);
  if (list.length === 0) return h('p', { className: 'muted small' }, 'This licence has no add-ons.');
  return h(
    'fieldset',
    { className: 'addon-switches' },
    h('legend', {}, label),
    h(
      'ul',
      {},
      ...list.map((p) =>
        addonSwitch(p, isOn(toggles, p.id), (on) => {
          toggles = setToggle(toggles, p.id, on);
          onChange(toggles);
        }, idPrefix),
      ),
    ),
  );
}

export interface Dialog {
  el: HTMLDialogElement;
  body: HTMLElement;
  footer: HTMLElement;
  close(): void;
}

let dialogSeq = 0;

/** A modal dialog (native <dialog>), removed from the page when closed. */
export function openDialog(title: string, className = ''): Dialog {
  const id = `dlg-${++dialogSeq}`;
  const body = h('div', { className: 'dialog-body' });
  const footer = h('div', { className: 'dialog-actions' });
  const closeBtn = h('button', { type: 'button', className: 'btn btn-ghost dialog-x', 'aria-label': 'Close' }, '×');
  const el = h(
    'dialog',
    { className: `dialog ${className}`.trim(), 'aria-labelledby': `${id}-title` },
    h('header', { className: 'dialog-head' }, h('h2', { id: `${id}-title` }, title), closeBtn),
    body,
    footer,
  );
  const close = (): void => {
    if (el.open) el.close();
    el.remove();
  };
  closeBtn.addEventListener('click', close);
  el.addEventListener('close', () => el.remove());
  document.body.append(el);
  el.showModal();
  return { el, body, footer, close };
}

/** A button; `primary` styles it as the main action. */
export function button(label: string, onClick: () => void, cls = 'btn'): HTMLButtonElement {
  const b = h('button', { type: 'button', className: cls }, label);
  b.addEventListener('click', onClick);
  return b;
}

/** Runs an action with its button disabled and a busy label; the button comes back unless the dialog is gone. */
async function busy<T>(btn: HTMLButtonElement, label: string, fn: () => Promise<T>): Promise<T> {
  const text = btn.textContent ?? '';
  btn.disabled = true;
  btn.textContent = label;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.textContent = text;
  }
}

// ---- The user page's licence actions.

export interface LicenceActions {
  /** Assign / Offboard and the result of the last change. */
  toolbar: HTMLElement;
  /** Change add-ons / Reassign / Remove for one licence card. */
  cardActions(l: UserLicence): HTMLElement;
  /** The user the actions work on (call on every render). */
  setUser(u: User): void;
}

/** Users shown per reassign search. */
export const REASSIGN_SEARCH_LIMIT = 10;

/**
 * The licence actions of the user page, or null when the signed-in role may not change licences (a viewer sees
 * no edit controls at all). `changed` re-renders the page with the user as the server answered.
 */
export function licenceActions({ app, signal }: ViewProps, customerId: string, changed: (u: User) => void): LicenceActions | null {
  if (!can(app.me?.role, 'licence:edit')) return null;
  let user: User | null = null;
  const result = h('div', { className: 'action-result', 'aria-live': 'polite' });

  const show = (el: HTMLElement | null): void => {
    if (signal.aborted) return;
    replace(result, el);
  };

  async function loadSkus(): Promise<Sku[]> {
    const res = await app.api.customerSkus(customerId, signal);
    return [...(res.items ?? [])].sort((a, b) => skuName(a).localeCompare(skuName(b)));
  }

  // -- Assign

  async function openAssign(): Promise<void> {
    const u = user;
    if (!u) return;
    const d = openDialog(`Assign a licence to ${userName(u)}`, 'dialog-assign');
    replace(d.body, h('p', { className: 'muted' }, 'Loading licences…'));
    let skus: Sku[];
    try {
      skus = await loadSkus();
    } catch (e) {
      replace(d.body, refusal(e, 'Cannot load the licences'));
      d.footer.append(button('Close', d.close));
      return;
    }
    if (skus.length === 0) {
      replace(d.body, h('p', {}, 'This customer has no licences. Sync it to read them from Microsoft 365.'));
      d.footer.append(button('Close', d.close));
      return;
    }
    const select = h('select', { id: 'assign-sku', name: 'skuId' }, ...skus.map((k) => h('option', { value: k.skuId, 'data-available': String(k.available) }, skuOptionLabel(k))));
    // Start on the first licence the user does not hold directly, preferring one with seats.
    const held = new Set(u.licences.filter((l) => l.direct).map((l) => l.skuId));
    const first = skus.find((k) => !held.has(k.skuId) && k.available > 0) ?? skus.find((k) => !held.has(k.skuId)) ?? skus[0];
    if (first) select.value = first.skuId;
    const addons = h('div', { className: 'addons-edit' });
    const checks = h('div', { className: 'precheck-box', role: 'status' });
    const summary = h('p', { className: 'small muted addons-summary' });
    const error = h('div', { className: 'dialog-error' });
    let toggles: AddonToggles = {};
    const submit = h('button', { type: 'button', className: 'btn btn-primary' }, 'Assign');

    const current = (): Sku | undefined => skus.find((k) => k.skuId === select.value);
    const update = (): void => {
      const k = current();
      replace(summary, k ? addonsSummary(k.servicePlans, toggles) : '');
      const cs = assignPrechecks(u, k);
      replace(checks, precheckList(cs));
      // Stale counts should not stop an admin (the server checks again); holding it already, or a removed user, does.
      submit.disabled = !k || cs.some((c) => c.kind === 'already_direct' || c.kind === 'user_removed');
      replace(submit, blocked(cs) && !submit.disabled ? 'Assign anyway' : 'Assign');
    };
    const pickSku = (): void => {
      const k = current();
      toggles = togglesAllOn(k?.servicePlans);
      replace(error);
      replace(addons, k ? addonSwitches(k.servicePlans, toggles, (t) => { toggles = t; update(); }, `Add-ons of ${skuName(k)}`, 'assign-plan') : null);
      update();
    };
    select.addEventListener('change', pickSku);

    replace(
      d.body,
      h('div', { className: 'field' }, h('label', { for: 'assign-sku' }, 'Licence'), select, h('p', { className: 'help' }, 'Seats as of the last sync or change.')),
      addons,
      summary,
      checks,
      error,
    );
    pickSku();
    submit.addEventListener('click', () => {
      const k = current();
      if (!k) return;
      replace(error);
      void busy(submit, 'Assigning…', async () => {
        try {
          const res = await assignLicence(app.api, customerId, u.id, { skuId: k.skuId, disabledPlans: disabledPlans(k.servicePlans, toggles) });
          d.close();
          const l = res.user.licences.find((x) => x.skuId === k.skuId);
          show(summaryBox({ level: 'ok', title: `Assigned ${skuName(k)} to ${userName(res.user)}.`, lines: resultLines(res, l) }));
          changed(res.user);
        } catch (e) {
          replace(error, refusal(e, `${skuName(k)} was not assigned`));
        }
      });
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), submit);
  }

  // -- Change add-ons

  function openAddons(l: UserLicence): void {
    const u = user;
    if (!u) return;
    const d = openDialog(`Add-ons of ${licenceName(l)}`, 'dialog-addons');
    const start = togglesOf(l);
    let toggles = start;
    const summary = h('p', { className: 'small muted addons-summary' }, addonsSummary(l.plans, toggles));
    const error = h('div', { className: 'dialog-error' });
    const save = h('button', { type: 'button', className: 'btn btn-primary', disabled: true }, 'Save add-ons');
    replace(
      d.body,
      h('p', {}, `For ${userName(u)}. Switching an add-on off keeps the licence and its seat.`),
      addonSwitches(l.plans, toggles, (t) => {
        toggles = t;
        replace(summary, addonsSummary(l.plans, toggles));
        save.disabled = sameAddons(l.plans, start, toggles);
      }, 'Add-ons', 'addon-plan'),
      summary,
      l.direct ? null : h('div', { className: 'alert alert-warn' }, removeBlockedReason(l) ?? ''),
      error,
    );
    save.addEventListener('click', () => {
      replace(error);
      void busy(save, 'Saving…', async () => {
        try {
          const res = await changeAddons(app.api, customerId, u.id, l.skuId, { disabledPlans: disabledPlans(l.plans, toggles) });
          d.close();
          const now = res.user.licences.find((x) => x.skuId === l.skuId);
          show(summaryBox({ level: 'ok', title: `Changed the add-ons of ${licenceName(l)} for ${userName(res.user)}.`, lines: resultLines(res, now) }));
          changed(res.user);
        } catch (e) {
          replace(error, refusal(e, 'The add-ons were not changed'));
        }
      });
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), save);
  }

  // -- Remove

  function openRemove(l: UserLicence): void {
    const u = user;
    if (!u) return;
    const d = openDialog(`Remove ${licenceName(l)}?`, 'dialog-remove');
    const error = h('div', { className: 'dialog-error' });
    const groups = (l.groups ?? []).map((g) => g.name || g.id);
    replace(
      d.body,
      h('p', {}, `${userName(u)} loses ${licenceWithAddons(l)}; the seat goes back to the customer's pool.`),
      groups.length > 0 ? h('p', { className: 'alert alert-info' }, `${userName(u)} still gets it via ${groups.length > 1 ? 'groups' : 'group'} ${listWords(groups)}.`) : null,
      error,
    );
    const ok = h('button', { type: 'button', className: 'btn btn-danger' }, 'Remove licence');
    ok.addEventListener('click', () => {
      replace(error);
      void busy(ok, 'Removing…', async () => {
        try {
          const res = await removeLicence(app.api, customerId, u.id, l.skuId);
          d.close();
          show(summaryBox({ level: 'ok', title: `Removed ${licenceName(l)} from ${userName(res.user)}.`, lines: resultLines(res, undefined) }));
          changed(res.user);
        } catch (e) {
          replace(error, refusal(e, `${licenceName(l)} was not removed`));
        }
      });
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), ok);
  }

  // -- Reassign

  function openReassign(l: UserLicence): void {
    const from = user;
    if (!from) return;
    const d = openDialog(`Reassign ${licenceName(l)}`, 'dialog-reassign');
    const search = h('input', { type: 'search', id: 'reassign-search', placeholder: 'Display name or UPN starts with…', autocomplete: 'off', spellcheck: 'false' });
    const results = h('div', { className: 'reassign-results', role: 'group', 'aria-label': 'Matching users' });
    const chosen = h('div', { className: 'reassign-chosen' });
    const error = h('div', { className: 'dialog-error' });
    const next = h('button', { type: 'button', className: 'btn btn-primary', disabled: true }, 'Continue');
    let target: User | null = null;
    let seq = 0;
    let debounce: ReturnType<typeof setTimeout> | undefined;
    // The SKU's counts, for what is known before moving the seat (the dialog works without them).
    let sku: Sku | undefined;
    const checks = (t: User): Precheck[] => reassignPrechecks(from, t, l.skuId, licenceName(l), sku);
    loadSkus()
      .then((ks) => {
        sku = ks.find((k) => k.skuId === l.skuId);
        if (target) pick(target);
      })
      .catch(() => {});

    const pick = (t: User): void => {
      target = t;
      const cs = checks(t);
      replace(chosen, h('p', {}, 'To: ', h('strong', {}, userName(t)), ' ', h('span', { className: 'mono small' }, t.userPrincipalName)), precheckList(cs));
      next.disabled = cs.some((c) => c.kind === 'same_user' || c.kind === 'already_direct' || c.kind === 'user_removed');
    };

    const find = async (): Promise<void> => {
      const q = search.value.trim();
      const my = ++seq;
      if (q === '') {
        replace(results, h('p', { className: 'muted small' }, 'Type the start of a name or UPN.'));
        return;
      }
      replace(results, h('p', { className: 'muted small' }, 'Searching…'));
      try {
        const page = await app.api.listUsers(customerId, { q, limit: REASSIGN_SEARCH_LIMIT }, signal);
        if (my !== seq) return;
        const users = (page.items ?? []).filter((x) => x.id !== from.id);
        replace(
          results,
          users.length > 0
            ? h(
                'ul',
                { className: 'user-picks' },
                ...users.map((x) => {
                  const has = x.licences.find((y) => y.skuId === l.skuId);
                  const b = button('', () => {
                    results.querySelectorAll('button[aria-pressed]').forEach((o) => o.setAttribute('aria-pressed', 'false'));
                    b.setAttribute('aria-pressed', 'true');
                    pick(x);
                  }, 'user-pick');
                  b.setAttribute('aria-pressed', String(target?.id === x.id));
                  b.setAttribute('data-user-id', x.id);
                  replace(
                    b,
                    h('span', { className: 'user-pick-name' }, userName(x)),
                    h('span', { className: 'mono small muted' }, x.userPrincipalName),
                    h('span', { className: 'small muted' }, x.usageLocation ? `Usage location ${x.usageLocation}` : 'No usage location'),
                    has ? h('span', { className: 'small' }, has.direct ? 'Holds it already' : 'Gets it via a group') : null,
                  );
                  return h('li', {}, b);
                }),
              )
            : h('p', { className: 'muted small' }, 'No other user matches.'),
        );
      } catch (e) {
        if (my === seq) replace(results, refusal(e, 'Cannot search users'));
      }
    };

    search.addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => void find(), 250);
    });
    d.el.addEventListener('close', () => clearTimeout(debounce));

    const confirmStep = (): void => {
      const to = target;
      if (!to) return;
      replace(
        d.body,
        h(
          'div',
          { className: 'confirm' },
          h('p', {}, 'Move ', h('strong', {}, licenceWithAddons(l)), ' from ', h('strong', {}, userName(from)), ' to ', h('strong', {}, userName(to)), '?'),
          h(
            'p',
            { className: 'small muted' },
            sku && sku.available < 0
              ? `${userName(to)} gets the same add-ons.`
              : `${userName(to)} gets the same add-ons. If ${userName(to)} cannot get it, ${userName(from)} keeps the seat.`,
          ),
          precheckList(checks(to)),
        ),
        error,
      );
      const back = button('Back', () => {
        replace(d.body, ...form());
        replace(d.footer, button('Cancel', d.close, 'btn btn-ghost'), next);
      }, 'btn btn-ghost');
      const go = h('button', { type: 'button', className: 'btn btn-primary' }, 'Reassign');
      go.addEventListener('click', () => {
        replace(error);
        void busy(go, 'Reassigning…', async () => {
          try {
            const res = await reassignLicence(app.api, customerId, from.id, l.skuId, { toUserId: to.id });
            d.close();
            show(summaryBox(reassignSummary(res, userName(from), userName(to))));
            changed(res.from);
          } catch (e) {
            // A reassignment that stopped after a step was sent says what it did: show that, not just the error.
            const done = reassignOfError(e);
            if (done) {
              d.close();
              const s = reassignSummary(done, userName(from), userName(to));
              const fields = Object.entries(toApiError(e).fields).map(([k, v]) => `${k}: ${v}`);
              show(summaryBox({ ...s, lines: [...s.lines, ...fields] }));
              changed(done.from);
            } else {
              replace(error, refusal(e, 'Nothing was reassigned'));
            }
          }
        });
      });
      replace(d.footer, back, go);
    };
    next.addEventListener('click', confirmStep);

    const form = (): HTMLElement[] => [
      h('p', {}, `From ${userName(from)} to:`),
      h('div', { className: 'field' }, h('label', { for: 'reassign-search' }, 'Find a user'), search),
      results,
      chosen,
    ];
    replace(d.body, ...form());
    replace(results, h('p', { className: 'muted small' }, 'Type the start of a name or UPN.'));
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), next);
    search.focus();
  }

  // -- Offboard

  function openOffboard(): void {
    const u = user;
    if (!u) return;
    const plan = offboardPlan(u.licences);
    const d = openDialog(`Offboard ${userName(u)}?`, 'dialog-offboard');
    const error = h('div', { className: 'dialog-error' });
    replace(
      d.body,
      plan.remove.length > 0
        ? h('div', {}, h('p', {}, 'Removes every licence held directly:'), h('ul', { 'aria-label': 'Licences to remove' }, ...plan.remove.map((l) => h('li', {}, licenceName(l)))))
        : h('p', {}, `${userName(u)} holds no licence directly: there is nothing to remove here.`),
      plan.keep.length > 0
        ? h(
            'div',
            { className: 'alert alert-info' },
            h('p', {}, 'Held via groups, so they stay until the user leaves the group in Microsoft 365:'),
            h('ul', { 'aria-label': 'Licences kept via groups' }, ...plan.keep.map((k) => h('li', {}, `${licenceName(k.licence)} — via ${listWords(k.groups) || 'a group'}`))),
          )
        : null,
      error,
    );
    const ok = h('button', { type: 'button', className: 'btn btn-danger', disabled: plan.remove.length === 0 }, 'Remove direct licences');
    ok.addEventListener('click', () => {
      replace(error);
      void busy(ok, 'Removing…', async () => {
        try {
          const res = await offboardUser(app.api, customerId, u.id);
          d.close();
          show(summaryBox(offboardSummary(res, userName(u))));
          changed(res.user);
        } catch (e) {
          replace(error, refusal(e, 'Nothing was removed'));
        }
      });
    });
    ok.disabled = plan.remove.length === 0;
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), ok);
  }

  const assignBtn = button('Assign licence', () => void openAssign(), 'btn btn-primary');
  const offboardBtn = button('Offboard…', openOffboard, 'btn');
  const toolbar = h(
    'div',
    { className: 'licence-toolbar' },
    h('div', { className: 'actions', role: 'group', 'aria-label': 'Licence actions' }, assignBtn, offboardBtn),
    result,
  );

  return {
    toolbar,
    setUser(u: User) {
      user = u;
      const removed = u.status !== 'active';
      assignBtn.disabled = removed;
      offboardBtn.disabled = removed || !u.licences.some((l) => l.direct);
      offboardBtn.title = offboardBtn.disabled ? 'No licence is held directly' : '';
    },
    cardActions(l: UserLicence): HTMLElement {
      const why = removeBlockedReason(l);
      const remove = button('Remove', () => openRemove(l), 'btn btn-small');
      const reassign = button('Reassign to…', () => openReassign(l), 'btn btn-small');
      const addons = button('Change add-ons', () => openAddons(l), 'btn btn-small');
      const reasonId = `remove-why-${l.skuId}`;
      if (why) {
        remove.disabled = true;
        reassign.disabled = true;
        remove.setAttribute('aria-describedby', reasonId);
        reassign.setAttribute('aria-describedby', reasonId);
      }
      if (!l.direct || l.plans.length === 0) addons.disabled = true;
      return h(
        'div',
        { className: 'licence-actions', role: 'group', 'aria-label': `Actions for ${licenceName(l)}` },
        addons,
        reassign,
        remove,
        why ? h('span', { id: reasonId, className: 'small muted held-why' }, why) : null,
      );
    },
  };
}

/** The lines of a single change's result: the licence's add-ons now, Graph's request-id, the server's notes. */
function resultLines(res: LicenceResult, l: UserLicence | undefined): string[] {
  return [
    ...(l ? [`Now: ${addonsSummary(l.plans, togglesOf(l))}.`] : []),
    ...(res.notes ?? []),
    ...(res.requestId ? [`Microsoft 365 request-id ${res.requestId}`] : []),
  ];
}

