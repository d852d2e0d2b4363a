// Templates (service profiles) of a customer: a named set of licences, each with its add-ons on or off. The Templates
// tab lists them, and admins create, edit (optimistic locking: a stale save gets 409, the form reloads) and delete
// them. The users list uses templateSelection to apply one to the users ticked there, with a result per user.

import { toApiError } from '../api/client';
import { assignTemplate, createTemplate, deleteTemplate, getTemplate, listTemplates, updateTemplate } from '../api/licensing';
import type { Sku, Template, TemplateInput, User } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { addonsSummary, skuName, sortPlans, togglesFromDisabled, userName, type AddonToggles } from '../lib/licensing';
import { applyOutcomes, applySummary } from '../lib/results';
import { templateDraft, templateInput, validateTemplate, type TemplateDraft } from '../lib/templates';
import { planName } from '../lib/users';
import { can } from '../permissions';
import { messageRow, table, time, type Panel } from './common';
import { addonSwitches, button, openDialog, refusal, summaryBox } from './licenceActions';

/** A template's licences in words, e.g. `Microsoft 365 Business Premium (off: Microsoft Bookings)`. */
function licenceChips(t: Template, skus: readonly Sku[]): HTMLElement {
  if (t.licences.length === 0) return h('span', { className: 'muted' }, 'No licences');
  return h(
    'ul',
    { className: 'chips', 'aria-label': 'Licences' },
    ...t.licences.map((l) => {
      const k = skus.find((s) => s.skuId === l.skuId);
      const off = new Set(l.disabledPlans ?? []);
      const offNames = k ? sortPlans(k.servicePlans).filter((p) => off.has(p.id)).map(planName) : [...off];
      return h(
        'li',
        { className: 'chip', 'data-sku-id': l.skuId, title: k ? addonsSummary(k.servicePlans, togglesFromDisabled(k.servicePlans, l.disabledPlans)) : `SKU ${l.skuId}` },
        k ? skuName(k) : `${l.name || `SKU ${l.skuId}`} (not in the tenant)`,
        l.kind === 'addon' ? h('span', { className: 'small muted' }, ' · add-on') : null,
        offNames.length > 0 ? h('span', { className: 'small muted' }, ` (off: ${offNames.join(', ')})`) : null,
      );
    }),
  );
}

/** The Templates tab of a customer. */
export function templatesPanel({ app, signal }: ViewProps, customerId: string): Panel {
  const canEdit = can(app.me?.role, 'template:edit');
  const headers = ['Name', 'Licences', 'Description', 'Updated', ...(canEdit ? ['Actions'] : [])];
  const { el: tableEl, body } = table('Templates', headers, 'table-templates');
  const status = h('div', { className: 'templates-msg', 'aria-live': 'polite' });
  const newBtn = canEdit ? button('New template', () => openEditor(null), 'btn btn-primary') : null;
  // The editor lists the customer's SKUs: it opens once they are loaded.
  if (newBtn) newBtn.disabled = true;
  let skus: Sku[] = [];
  let templates: Template[] = [];

  const el = h(
    'section',
    { className: 'card tab-panel', 'aria-labelledby': 'templates-title' },
    h('div', { className: 'panel-head' }, h('h2', { id: 'templates-title' }, 'Templates'), newBtn),
    h('p', { className: 'muted small' }, 'A template is a set of licences with their add-ons; apply it to users from the Users tab.'),
    status,
    h('div', { className: 'table-wrap' }, tableEl),
  );
  replace(body, messageRow(headers.length, 'Loading…'));

  function row(t: Template): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-template-id': t.id },
      h('th', { scope: 'row' }, t.name),
      h('td', {}, licenceChips(t, skus)),
      h('td', {}, t.description || h('span', { className: 'muted' }, '—')),
      h('td', { className: 'nowrap' }, time(t.updatedAt)),
      canEdit
        ? h(
            'td',
            { className: 'nowrap' },
            h(
              'div',
              { className: 'actions', role: 'group', 'aria-label': `Actions for ${t.name}` },
              button('Edit', () => openEditor(t), 'btn btn-small'),
              button('Delete', () => openDelete(t), 'btn btn-small'),
            ),
          )
        : null,
    );
  }

  async function reload(): Promise<void> {
    try {
      const [ts, ks] = await Promise.all([listTemplates(app.api, customerId, signal), app.api.customerSkus(customerId, signal)]);
      if (signal.aborted) return;
      skus = [...(ks.items ?? [])].sort((a, b) => skuName(a).localeCompare(skuName(b)));
      if (newBtn) newBtn.disabled = false;
      templates = [...(ts.items ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      replace(
        body,
        ...(templates.length > 0
          ? templates.map(row)
          : [messageRow(headers.length, canEdit ? 'No templates yet. Create one with New template.' : 'No templates yet.')]),
      );
    } catch (e) {
      if (signal.aborted) return;
      replace(body);
      replace(status, refusal(e, 'Cannot load templates'));
    }
  }

  function openEditor(t: Template | null): void {
    const d = openDialog(t ? `Edit ${t.name}` : 'New template', 'dialog-template');
    let draft: TemplateDraft = templateDraft(t);
    const notice = h('div', { className: 'dialog-notice' });
    const error = h('div', { className: 'dialog-error' });
    const save = h('button', { type: 'button', className: 'btn btn-primary' }, t ? 'Save template' : 'Create template');
    const form = h('form', { className: 'form template-form', novalidate: true, 'aria-label': 'Template' });

    function fieldError(id: string, msg: string | undefined): HTMLElement {
      return h('p', { id, className: 'field-error' }, msg ?? '');
    }

    function render(fieldErrors: Record<string, string> = {}): void {
      const name = h('input', { type: 'text', id: 'tpl-name', name: 'name', value: draft.name, maxlength: 100, 'aria-describedby': 'tpl-name-error', 'aria-invalid': fieldErrors['name'] ? 'true' : null });
      name.addEventListener('input', () => (draft = { ...draft, name: name.value }));
      const desc = h('input', { type: 'text', id: 'tpl-desc', name: 'description', value: draft.description, maxlength: 1000 });
      desc.addEventListener('input', () => (draft = { ...draft, description: desc.value }));
      const licences = skus.map((k) => {
        const included = Object.prototype.hasOwnProperty.call(draft.licences, k.skuId);
        const id = `tpl-sku-${k.skuId}`;
        const box = h('input', { type: 'checkbox', id, 'data-sku-id': k.skuId, checked: included });
        const addons = h('div', { className: 'tpl-addons' });
        const renderAddons = (): void => {
          const toggles: AddonToggles | undefined = draft.licences[k.skuId];
          replace(
            addons,
            toggles
              ? addonSwitches(k.servicePlans, toggles, (tg) => (draft = { ...draft, licences: { ...draft.licences, [k.skuId]: tg } }), `Add-ons of ${skuName(k)}`, `tpl-plan-${k.skuId}`)
              : null,
          );
        };
        box.addEventListener('change', () => {
          const next = { ...draft.licences };
          if (box.checked) next[k.skuId] = Object.fromEntries(k.servicePlans.map((p) => [p.id, true]));
          else delete next[k.skuId];
          draft = { ...draft, licences: next };
          renderAddons();
        });
        renderAddons();
        return h('li', { className: 'tpl-licence', 'data-sku-id': k.skuId }, h('div', { className: 'field-check' }, box, h('label', { for: id }, skuName(k)), h('span', { className: 'small muted' }, k.partNumber)), addons);
      });
      // Licences of the template the tenant no longer has: kept as they are, shown so nobody is surprised.
      const unknown = Object.keys(draft.licences).filter((id) => !skus.some((k) => k.skuId === id));
      replace(
        form,
        h('div', { className: 'field' }, h('label', { for: 'tpl-name' }, 'Name'), name, fieldError('tpl-name-error', fieldErrors['name'])),
        h('div', { className: 'field' }, h('label', { for: 'tpl-desc' }, 'Description'), desc, fieldError('tpl-desc-error', fieldErrors['description'])),
        h(
          'fieldset',
          { className: 'tpl-licences' },
          h('legend', {}, 'Licences'),
          skus.length > 0 ? h('ul', {}, ...licences) : h('p', { className: 'muted small' }, 'The customer has no licences yet: sync it first.'),
          unknown.length > 0 ? h('p', { className: 'small text-error' }, `Not in the tenant any more: ${unknown.join(', ')}`) : null,
          fieldError('tpl-licences-error', fieldErrors['licences']),
        ),
      );
    }

    async function reloadTemplate(id: string): Promise<void> {
      try {
        const fresh = await getTemplate(app.api, customerId, id, signal);
        t = fresh;
        draft = templateDraft(fresh);
        render();
        void reload();
      } catch (e) {
        replace(error, refusal(e, 'Cannot reload the template'));
      }
    }

    save.addEventListener('click', () => {
      replace(error);
      replace(notice);
      const errs = validateTemplate(draft);
      if (Object.keys(errs).length > 0) {
        render(errs);
        return;
      }
      const body: TemplateInput = templateInput(draft);
      save.disabled = true;
      void (async () => {
        try {
          const saved = t ? await updateTemplate(app.api, customerId, t.id, { ...body, version: t.version }) : await createTemplate(app.api, customerId, body);
          d.close();
          replace(status, summaryBox({ level: 'ok', title: `${t ? 'Saved' : 'Created'} template ${saved.name}.`, lines: [] }));
          await reload();
        } catch (e) {
          const err = toApiError(e);
          if (err.code === 'conflict' && t) {
            replace(
              notice,
              h('div', { className: 'alert alert-warn', role: 'alert', 'data-code': 'conflict' }, `Changed by someone else — reloaded. ${err.message ? `(${err.message}) ` : ''}Check the template and save again.`),
            );
            await reloadTemplate(t.id);
          } else {
            replace(error, refusal(err, 'The template was not saved'));
            if (Object.keys(err.fields).length > 0) render(err.fields);
          }
        } finally {
          save.disabled = false;
        }
      })();
    });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      save.click();
    });

    render();
    replace(d.body, notice, form, error);
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), save);
  }

  function openDelete(t: Template): void {
    const d = openDialog(`Delete ${t.name}?`, 'dialog-remove');
    const error = h('div', { className: 'dialog-error' });
    replace(d.body, h('p', {}, 'Users keep the licences they got from it; the template is gone for good.'), error);
    const ok = h('button', { type: 'button', className: 'btn btn-danger' }, 'Delete template');
    ok.addEventListener('click', () => {
      ok.disabled = true;
      void (async () => {
        try {
          await deleteTemplate(app.api, customerId, t.id, t.version);
          d.close();
          replace(status, summaryBox({ level: 'ok', title: `Deleted template ${t.name}.`, lines: [] }));
          await reload();
        } catch (e) {
          replace(error, refusal(e, 'The template was not deleted'));
          ok.disabled = false;
        }
      })();
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), ok);
  }

  void reload();
  return { el, reload };
}

/** Ticking users in the users list and applying a template to them. */
export interface TemplateSelection {
  /** The bar above the table: how many are ticked, the template, Apply. */
  el: HTMLElement;
  /** Puts a "select the page" box at the start of a header cell. */
  header(th: HTMLTableCellElement): void;
  /** The tick box of a user's row. */
  box(u: User): HTMLInputElement;
  /** Tells which users the table shows now (for the "select the page" box). */
  shown(users: readonly User[]): void;
}

/**
 * The users list's selection and "Apply template", or null when the role may not change licences. `changed` is
 * called after a template was applied (the list reloads).
 */
export function templateSelection({ app, signal }: Pick<ViewProps, 'app' | 'signal'>, customerId: string, changed: () => void): TemplateSelection | null {
  if (!can(app.me?.role, 'licence:edit')) return null;
  const selected = new Map<string, User>();
  let page: readonly User[] = [];
  let templates: Template[] = [];
  const count = h('span', { className: 'selection-count', 'aria-live': 'polite' });
  const select = h('select', { id: 'apply-template', name: 'template' });
  const apply = h('button', { type: 'button', className: 'btn btn-primary' }, 'Apply template');
  const clear = button('Clear selection', () => {
    selected.clear();
    sync();
  }, 'btn btn-ghost');
  const result = h('div', { className: 'apply-result', 'aria-live': 'polite' });
  const all = h('input', { type: 'checkbox', id: 'users-select-page', 'aria-label': 'Select every user on this page' });

  const el = h(
    'div',
    { className: 'selection-bar-wrap' },
    h(
      'div',
      { className: 'selection-bar', role: 'group', 'aria-label': 'Apply a template' },
      count,
      h('div', { className: 'field field-inline' }, h('label', { for: 'apply-template' }, 'Template'), select),
      apply,
      clear,
    ),
    result,
  );

  function sync(): void {
    const n = selected.size;
    replace(count, n === 0 ? 'Tick users to apply a template to them.' : `${n} ${n === 1 ? 'user' : 'users'} selected`);
    apply.disabled = n === 0 || select.value === '';
    clear.hidden = n === 0;
    for (const box of document.querySelectorAll<HTMLInputElement>('input[data-select-user]')) box.checked = selected.has(box.dataset['selectUser'] ?? '');
    const onPage = page.filter((u) => u.status === 'active');
    const ticked = onPage.filter((u) => selected.has(u.id)).length;
    all.checked = onPage.length > 0 && ticked === onPage.length;
    all.indeterminate = ticked > 0 && ticked < onPage.length;
  }

  all.addEventListener('change', () => {
    for (const u of page) {
      if (u.status !== 'active') continue;
      if (all.checked) selected.set(u.id, u);
      else selected.delete(u.id);
    }
    sync();
  });
  select.addEventListener('change', sync);

  async function loadTemplates(): Promise<void> {
    try {
      const res = await listTemplates(app.api, customerId, signal);
      if (signal.aborted) return;
      templates = [...(res.items ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      const keep = select.value;
      replace(select, h('option', { value: '' }, templates.length > 0 ? 'Choose a template…' : 'No templates yet'), ...templates.map((t) => h('option', { value: t.id }, t.name)));
      select.value = templates.some((t) => t.id === keep) ? keep : '';
      sync();
    } catch (e) {
      if (signal.aborted) return;
      replace(result, refusal(e, 'Cannot load templates'));
    }
  }

  apply.addEventListener('click', () => {
    const t = templates.find((x) => x.id === select.value);
    if (!t || selected.size === 0) return;
    const users = [...selected.values()];
    const d = openDialog(`Apply ${t.name}?`, 'dialog-apply');
    const error = h('div', { className: 'dialog-error' });
    replace(
      d.body,
      h('p', {}, `Assigns ${t.licences.length} ${t.licences.length === 1 ? 'licence' : 'licences'} with the template's add-ons to ${users.length} ${users.length === 1 ? 'user' : 'users'}:`),
      h('p', { className: 'small muted' }, 'A user who already holds one of these licences directly gets its add-ons set as in the template; one who has exactly the template is left unchanged. Seats are checked for everyone first: if a licence is short, nothing changes.'),
      h('ul', { className: 'apply-users', 'aria-label': 'Users' }, ...users.map((u) => h('li', {}, userName(u), ' ', h('span', { className: 'mono small muted' }, u.userPrincipalName), u.usageLocation ? null : h('span', { className: 'small text-error' }, ' — no usage location')))),
      error,
    );
    const go = h('button', { type: 'button', className: 'btn btn-primary' }, `Apply to ${users.length}`);
    go.addEventListener('click', () => {
      go.disabled = true;
      go.textContent = 'Applying…';
      void (async () => {
        try {
          const res = await assignTemplate(app.api, customerId, t.id, { userIds: users.map((u) => u.id) });
          const names = new Map(users.map((u) => [u.id, userName(u)]));
          const items = applyOutcomes(res, names);
          d.close();
          replace(result, summaryBox(applySummary(t.name, items)));
          // The users that went through leave the selection; the failed ones stay ticked to retry.
          for (const r of res.items ?? []) if (r.outcome !== 'failed') selected.delete(r.userId);
          sync();
          changed();
        } catch (e) {
          // A SKU short of seats fails the whole request, with the SKUs (by id) as fields.
          replace(error, refusal(e, 'The template was not applied: nothing changed', (f) => t.licences.find((l) => l.skuId === f)?.name || f));
          go.disabled = false;
          go.textContent = `Apply to ${users.length}`;
        }
      })();
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), go);
  });

  void loadTemplates();
  sync();

  return {
    el,
    header(th) {
      th.prepend(all, ' ');
    },
    box(u) {
      const box = h('input', {
        type: 'checkbox',
        'data-select-user': u.id,
        'aria-label': `Select ${userName(u)}`,
        checked: selected.has(u.id),
        disabled: u.status !== 'active',
      });
      box.addEventListener('change', () => {
        if (box.checked) selected.set(u.id, u);
        else selected.delete(u.id);
        sync();
      });
      return box;
    },
    shown(users) {
      page = users;
      sync();
    },
  };
}
