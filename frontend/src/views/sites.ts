// The Sites & settings tab of a customer: the provisioning settings (Manage Licenses, Allow User Staging, default
// usage location, staging limit, quarantine; optimistic version: a stale save says so and offers a reload), then the
// sites in placement order with their criteria, template, staging and number policy. Admins create, edit (ordered
// criteria rows: add, remove, move) and delete sites; a viewer sees the same without a single edit control.

import { toApiError } from '../api/client';
import { listTemplates } from '../api/licensing';
import { createSite, deleteSite, getSettings, getSite, listSites, saveSettings, updateSite } from '../api/provisioning';
import type { Settings, Site, Template } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { NUMBER_TYPES } from '../lib/numbers';
import {
  addCriterion,
  changeCriterion,
  criteriaText,
  CRITERION_FIELDS,
  isStaleConflict,
  limitText,
  MAX_CRITERIA,
  MAX_QUARANTINE_DAYS,
  MAX_STAGING_LIMIT_MINUTES,
  MIN_STAGING_LIMIT_MINUTES,
  moveCriterion,
  nextSiteOrder,
  numberPolicyText,
  removeCriterion,
  settingsDraft,
  settingsInput,
  siteDraft,
  siteInput,
  sortSites,
  stagingSwitchText,
  validateSettings,
  validateSite,
  type SettingsDraft,
  type SiteDraft,
} from '../lib/sites';
import { can } from '../permissions';
import { facts, messageRow, table, type Panel } from './common';
import { button, openDialog, refusal, summaryBox } from './licenceActions';

/** A field's error line, referenced by its input's aria-describedby. */
function fieldError(id: string, msg: string | undefined): HTMLElement {
  return h('p', { id, className: 'field-error' }, msg ?? '');
}

/** "Changed by someone else — reload": the conflict notice of a stale save, with a Reload button. */
export function staleNotice(what: string, reload: () => void): HTMLElement {
  return h(
    'div',
    { className: 'alert alert-warn stale', role: 'alert', 'data-code': 'conflict' },
    h('p', {}, `${what} changed by someone else — reload to see the change, then save again.`),
    button('Reload', reload, 'btn btn-small'),
  );
}

/** The Sites & settings tab. */
export function sitesPanel({ app, signal }: ViewProps, customerId: string): Panel {
  const canEdit = can(app.me?.role, 'customer:settings');
  const settingsBox = h('div', { className: 'settings-box' }, h('p', { className: 'muted' }, 'Loading…'));
  const settingsMsg = h('div', { className: 'settings-msg', 'aria-live': 'polite' });
  const headers = ['Order', 'Site', 'Criteria', 'Usage location', 'Template', 'Staging', 'Number', ...(canEdit ? ['Actions'] : [])];
  const { el: tableEl, body } = table('Sites', headers, 'table-sites');
  const status = h('div', { className: 'sites-msg', 'aria-live': 'polite' });
  const newBtn = canEdit ? button('New site', () => openEditor(null), 'btn btn-primary') : null;
  if (newBtn) newBtn.disabled = true;
  let settings: Settings | null = null;
  let sites: Site[] = [];
  let templates: Template[] = [];

  const el = h(
    'div',
    { className: 'tab-panel sites-tab' },
    h(
      'section',
      { className: 'card', 'aria-labelledby': 'settings-title' },
      h('h2', { id: 'settings-title' }, 'Provisioning settings'),
      settingsMsg,
      settingsBox,
    ),
    h(
      'section',
      { className: 'card', 'aria-labelledby': 'sites-title' },
      h('div', { className: 'panel-head' }, h('h2', { id: 'sites-title' }, 'Sites'), newBtn),
      h(
        'p',
        { className: 'muted small' },
        'A staged user is placed on the first site (by order) whose criteria match them, else on the default site; the site gives them its template and a number.',
      ),
      status,
      h('div', { className: 'table-wrap' }, tableEl),
    ),
  );
  replace(body, messageRow(headers.length, 'Loading…'));

  // -- Settings

  function renderSettings(s: Settings): void {
    settings = s;
    if (!canEdit) {
      replace(
        settingsBox,
        facts([
          ['Manage Licenses', s.manageLicenses ? 'On' : 'Off'],
          ['Allow User Staging', s.allowStaging ? 'On' : 'Off'],
          ['Default usage location', s.defaultUsageLocation || h('span', { className: 'muted' }, 'None')],
          ['Staging limit', `${limitText(s.stagingLimitMinutes)} (${s.stagingLimitMinutes} min)`],
          ['Number quarantine', `${s.quarantineDays} ${s.quarantineDays === 1 ? 'day' : 'days'}`],
        ]),
        h('p', { className: 'muted small', 'data-testid': 'staging-switches' }, stagingSwitchText(s)),
      );
      return;
    }
    let draft: SettingsDraft = settingsDraft(s);
    const form = h('form', { className: 'form settings-form', novalidate: true, 'aria-label': 'Provisioning settings' });
    const save = h('button', { type: 'submit', className: 'btn btn-primary' }, 'Save settings');
    const switches = h('p', { className: 'muted small', 'data-testid': 'staging-switches' });

    const check = (id: string, key: 'manageLicenses' | 'allowStaging', label: string, help: string): HTMLElement => {
      const box = h('input', { type: 'checkbox', id, name: key, checked: draft[key] });
      box.addEventListener('change', () => {
        draft = { ...draft, [key]: box.checked };
        replace(switches, stagingSwitchText(draft));
      });
      return h('div', { className: 'field-check settings-switch' }, box, h('label', { for: id }, label), h('span', { className: 'help' }, help));
    };
    const text = (
      id: string,
      key: 'defaultUsageLocation' | 'stagingLimitMinutes' | 'quarantineDays',
      label: string,
      help: string,
      attrs: Record<string, string | number | boolean>,
      errs: Record<string, string>,
    ): HTMLElement => {
      const input = h('input', { id, name: key, value: draft[key], 'aria-describedby': `${id}-error ${id}-help`, 'aria-invalid': errs[key] ? 'true' : null, ...attrs });
      input.addEventListener('input', () => (draft = { ...draft, [key]: input.value }));
      return h('div', { className: 'field' }, h('label', { for: id }, label), input, h('p', { id: `${id}-help`, className: 'help' }, help), fieldError(`${id}-error`, errs[key]));
    };

    const render = (errs: Record<string, string> = {}): void => {
      replace(switches, stagingSwitchText(draft));
      replace(
        form,
        h(
          'div',
          { className: 'settings-switches' },
          check('set-manage', 'manageLicenses', 'Manage Licenses', 'Seatwise manages this customer’s licences.'),
          check('set-staging', 'allowStaging', 'Allow User Staging', 'Newly licensed users are staged and provisioned when they appear in Teams.'),
        ),
        switches,
        h(
          'div',
          { className: 'settings-fields' },
          text('set-usage', 'defaultUsageLocation', 'Default usage location', 'Two letters, e.g. GB; given to users without one. A site’s overrides it.', { type: 'text', maxlength: 2, className: 'input-short', autocomplete: 'off', spellcheck: 'false' }, errs),
          text('set-limit', 'stagingLimitMinutes', 'Staging limit (minutes)', `How long a staged user may take to appear in Teams before staging fails (${MIN_STAGING_LIMIT_MINUTES}–${MAX_STAGING_LIMIT_MINUTES}; 1440 = 24 h).`, { type: 'number', min: MIN_STAGING_LIMIT_MINUTES, max: MAX_STAGING_LIMIT_MINUTES, step: 1, className: 'input-short' }, errs),
          text('set-quarantine', 'quarantineDays', 'Number quarantine (days)', `How long a released number waits before it is assigned again (0–${MAX_QUARANTINE_DAYS}).`, { type: 'number', min: 0, max: MAX_QUARANTINE_DAYS, step: 1, className: 'input-short' }, errs),
        ),
        h('div', { className: 'form-actions' }, save, h('span', { className: 'small muted' }, s.version > 0 ? `Version ${s.version}` : 'Not saved yet: these are the defaults.')),
      );
    };

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      replace(settingsMsg);
      const errs = validateSettings(draft);
      if (Object.keys(errs).length > 0) {
        render(errs);
        return;
      }
      save.disabled = true;
      void (async () => {
        try {
          const saved = await saveSettings(app.api, customerId, settingsInput(draft, s.version));
          if (signal.aborted) return;
          renderSettings(saved);
          replace(settingsMsg, summaryBox({ level: 'ok', title: 'Settings saved.', lines: [stagingSwitchText(saved)] }));
        } catch (e) {
          if (signal.aborted) return;
          const err = toApiError(e);
          if (isStaleConflict(err)) {
            replace(settingsMsg, staleNotice('The settings were', () => void loadSettings(true)));
          } else {
            replace(settingsMsg, refusal(err, 'The settings were not saved'));
            if (Object.keys(err.fields).length > 0) render(err.fields);
          }
        } finally {
          save.disabled = false;
        }
      })();
    });

    render();
    replace(settingsBox, form);
  }

  async function loadSettings(clearMsg = false): Promise<void> {
    try {
      const s = await getSettings(app.api, customerId, signal);
      if (signal.aborted) return;
      if (clearMsg) replace(settingsMsg, h('div', { className: 'alert alert-info', role: 'status' }, 'Reloaded: these are the settings as saved now.'));
      renderSettings(s);
    } catch (e) {
      if (signal.aborted) return;
      replace(settingsBox, refusal(e, 'Cannot load the settings'));
    }
  }

  // -- Sites

  const templateName = (id: string): string => (id ? (templates.find((t) => t.id === id)?.name ?? `Template ${id} (gone)`) : '');

  function row(s: Site): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-site-id': s.id, 'data-site-name': s.name },
      h('td', { className: 'num' }, String(s.order)),
      h('th', { scope: 'row' }, s.name, s.default ? h('span', { className: 'badge badge-ok badge-inline', 'data-default': 'true' }, 'Default') : null),
      h('td', { className: 'criteria-cell' }, criteriaText(s)),
      h('td', {}, s.usageLocation || h('span', { className: 'muted' }, settings?.defaultUsageLocation ? `${settings.defaultUsageLocation} (customer default)` : '—')),
      h('td', {}, s.templateId ? templateName(s.templateId) : h('span', { className: 'muted' }, 'None')),
      h('td', {}, s.allowStaging ? 'Allowed' : h('span', { className: 'muted' }, 'Off')),
      h('td', { 'data-number-policy': s.numberPolicy?.assign ? s.numberPolicy.type || 'any' : 'none' }, numberPolicyText(s.numberPolicy)),
      canEdit
        ? h(
            'td',
            { className: 'nowrap' },
            h(
              'div',
              { className: 'actions', role: 'group', 'aria-label': `Actions for ${s.name}` },
              button('Edit', () => openEditor(s), 'btn btn-small'),
              button('Delete', () => openDelete(s), 'btn btn-small'),
            ),
          )
        : null,
    );
  }

  function renderSites(): void {
    replace(
      body,
      ...(sites.length > 0
        ? sortSites(sites).map(row)
        : [messageRow(headers.length, canEdit ? 'No sites yet. Create one with New site; make one the default.' : 'No sites yet.')]),
    );
  }

  async function loadSites(): Promise<void> {
    try {
      const [ss, ts] = await Promise.all([listSites(app.api, customerId, signal), listTemplates(app.api, customerId, signal)]);
      if (signal.aborted) return;
      sites = ss.items ?? [];
      templates = [...(ts.items ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      if (newBtn) newBtn.disabled = false;
      renderSites();
    } catch (e) {
      if (signal.aborted) return;
      replace(body);
      replace(status, refusal(e, 'Cannot load the sites'));
    }
  }

  function openEditor(site: Site | null): void {
    let current = site;
    const d = openDialog(current ? `Edit site ${current.name}` : 'New site', 'dialog-site');
    let draft: SiteDraft = siteDraft(current, nextSiteOrder(sites));
    const notice = h('div', { className: 'dialog-notice' });
    const error = h('div', { className: 'dialog-error' });
    const save = h('button', { type: 'button', className: 'btn btn-primary' }, current ? 'Save site' : 'Create site');
    const form = h('form', { className: 'form site-form', novalidate: true, 'aria-label': 'Site' });
    let errs: Record<string, string> = {};

    const input = (id: string, key: 'name' | 'order' | 'usageLocation', label: string, attrs: Record<string, string | number | boolean>, help = ''): HTMLElement => {
      const el = h('input', { id, name: key, value: draft[key], 'aria-describedby': `${id}-error`, 'aria-invalid': errs[key] ? 'true' : null, ...attrs });
      el.addEventListener('input', () => (draft = { ...draft, [key]: el.value }));
      return h('div', { className: 'field' }, h('label', { for: id }, label), el, help ? h('p', { className: 'help' }, help) : null, fieldError(`${id}-error`, errs[key]));
    };
    const checkbox = (id: string, key: 'default' | 'allowStaging' | 'assignNumber', label: string, onChange?: () => void): HTMLElement => {
      const el = h('input', { type: 'checkbox', id, name: key, checked: draft[key] });
      el.addEventListener('change', () => {
        draft = { ...draft, [key]: el.checked };
        onChange?.();
      });
      return h('div', { className: 'field-check' }, el, h('label', { for: id }, label));
    };

    function criteriaEditor(): HTMLElement {
      const rows = draft.criteria;
      const list = h(
        'ol',
        { className: 'criteria-rows', 'aria-label': 'Criteria, tried in order' },
        ...rows.map((r, i) => {
          const fieldId = `site-crit-field-${r.key}`;
          const valueId = `site-crit-value-${r.key}`;
          const fieldSel = h(
            'select',
            { id: fieldId, 'data-criterion-field': String(i), 'aria-label': `Criterion ${i + 1}: what to match`, 'aria-invalid': errs[`criteria[${i}].field`] ? 'true' : null },
            ...CRITERION_FIELDS.map((f) => h('option', { value: f.value }, f.label)),
          );
          fieldSel.value = r.field;
          fieldSel.addEventListener('change', () => {
            draft = { ...draft, criteria: changeCriterion(draft.criteria, i, { field: fieldSel.value as typeof r.field }) };
            valueIn.placeholder = CRITERION_FIELDS.find((f) => f.value === fieldSel.value)?.placeholder ?? '';
          });
          const valueIn = h('input', {
            type: 'text',
            id: valueId,
            value: r.value,
            'data-criterion-value': String(i),
            'aria-label': `Criterion ${i + 1}: value`,
            placeholder: CRITERION_FIELDS.find((f) => f.value === r.field)?.placeholder ?? '',
            'aria-invalid': errs[`criteria[${i}].value`] ? 'true' : null,
            'aria-describedby': `${valueId}-error`,
            maxlength: 256,
          });
          valueIn.addEventListener('input', () => (draft = { ...draft, criteria: changeCriterion(draft.criteria, i, { value: valueIn.value }) }));
          const up = button('↑', () => rerender(moveCriterion(draft.criteria, i, -1), `.criterion-row[data-key="${r.key}"] input`), 'btn btn-small btn-icon');
          up.setAttribute('aria-label', `Move criterion ${i + 1} up`);
          up.disabled = i === 0;
          const down = button('↓', () => rerender(moveCriterion(draft.criteria, i, 1), `.criterion-row[data-key="${r.key}"] input`), 'btn btn-small btn-icon');
          down.setAttribute('aria-label', `Move criterion ${i + 1} down`);
          down.disabled = i === rows.length - 1;
          const remove = button('Remove', () => rerender(removeCriterion(draft.criteria, i), '[data-add-criterion]'), 'btn btn-small');
          remove.setAttribute('aria-label', `Remove criterion ${i + 1}`);
          const msg = errs[`criteria[${i}].value`] ?? errs[`criteria[${i}].field`];
          return h(
            'li',
            { className: 'criterion-row', 'data-key': String(r.key) },
            h('div', { className: 'criterion-inputs' }, fieldSel, h('span', { className: 'muted small' }, 'is'), valueIn, up, down, remove),
            fieldError(`${valueId}-error`, msg),
          );
        }),
      );
      const add = button('Add criterion', () => rerender(addCriterion(draft.criteria), '.criterion-row:last-child select'), 'btn btn-small');
      add.setAttribute('data-add-criterion', '');
      add.disabled = rows.length >= MAX_CRITERIA;
      return h(
        'fieldset',
        { className: 'criteria' },
        h('legend', {}, 'Criteria'),
        h('p', { className: 'help' }, 'Any one matching places a user here (exact, any letter case). Sites are tried by order; the first match wins.'),
        rows.length > 0 ? list : h('p', { className: 'muted small' }, draft.default ? 'None: the default site takes everyone no other site takes.' : 'None yet.'),
        fieldError('site-criteria-error', errs['criteria']),
        add,
      );
    }

    /** Re-renders after the rows changed, and puts the keyboard on `focus` (the rows are new elements). */
    function rerender(criteria: SiteDraft['criteria'], focus: string): void {
      draft = { ...draft, criteria };
      render();
      form.querySelector<HTMLElement>(focus)?.focus();
    }

    function render(): void {
      const templateSel = h(
        'select',
        { id: 'site-template', name: 'templateId', 'aria-invalid': errs['templateId'] ? 'true' : null, 'aria-describedby': 'site-template-error' },
        h('option', { value: '' }, 'No template'),
        ...templates.map((t) => h('option', { value: t.id }, t.name)),
      );
      if (draft.templateId && !templates.some((t) => t.id === draft.templateId)) templateSel.append(h('option', { value: draft.templateId }, `Template ${draft.templateId} (gone)`));
      templateSel.value = draft.templateId;
      templateSel.addEventListener('change', () => (draft = { ...draft, templateId: templateSel.value }));
      const typeSel = h(
        'select',
        { id: 'site-number-type', name: 'numberType', disabled: !draft.assignNumber },
        h('option', { value: '' }, 'Any type'),
        ...NUMBER_TYPES.map((t) => h('option', { value: t.value }, t.label)),
      );
      typeSel.value = draft.numberType;
      typeSel.addEventListener('change', () => (draft = { ...draft, numberType: typeSel.value as SiteDraft['numberType'] }));
      replace(
        form,
        h(
          'div',
          { className: 'form-row' },
          input('site-name', 'name', 'Name', { type: 'text', maxlength: 80, autocomplete: 'off' }),
          input('site-order', 'order', 'Order', { type: 'number', step: 1, className: 'input-short' }, 'Lower is tried first.'),
        ),
        checkbox('site-default', 'default', 'Default site (takes users no site’s criteria match)'),
        fieldError('site-default-error', errs['default']),
        criteriaEditor(),
        h(
          'div',
          { className: 'form-row' },
          input('site-usage', 'usageLocation', 'Usage location', { type: 'text', maxlength: 2, className: 'input-short', autocomplete: 'off', placeholder: settings?.defaultUsageLocation ?? '' }, 'Two letters; empty = the customer’s default.'),
          h('div', { className: 'field' }, h('label', { for: 'site-template' }, 'Template'), templateSel, h('p', { className: 'help' }, 'Its licences are given on provisioning.'), fieldError('site-template-error', errs['templateId'])),
        ),
        checkbox('site-staging', 'allowStaging', 'Allow staging for users placed here'),
        h(
          'fieldset',
          { className: 'number-policy' },
          h('legend', {}, 'Number policy'),
          checkbox('site-assign', 'assignNumber', 'Assign a number from this site’s inventory', () => {
            typeSel.disabled = !draft.assignNumber;
          }),
          h('div', { className: 'field field-inline' }, h('label', { for: 'site-number-type' }, 'Number type'), typeSel),
          fieldError('site-policy-error', errs['numberPolicy.type'] ?? errs['numberPolicy']),
        ),
      );
    }

    async function reloadSite(): Promise<void> {
      if (!current) return;
      try {
        const fresh = await getSite(app.api, customerId, current.id, signal);
        current = fresh;
        draft = siteDraft(fresh);
        errs = {};
        render();
        replace(notice, h('div', { className: 'alert alert-info', role: 'status' }, 'Reloaded: this is the site as saved now.'));
        void loadSites();
      } catch (e) {
        replace(error, refusal(e, 'Cannot reload the site'));
      }
    }

    save.addEventListener('click', () => {
      replace(error);
      replace(notice);
      errs = validateSite(draft);
      if (Object.keys(errs).length > 0) {
        render();
        return;
      }
      const input = siteInput(draft);
      save.disabled = true;
      void (async () => {
        try {
          const saved = current ? await updateSite(app.api, customerId, current.id, { ...input, version: current.version }) : await createSite(app.api, customerId, input);
          d.close();
          replace(status, summaryBox({ level: 'ok', title: `${current ? 'Saved' : 'Created'} site ${saved.name}.`, lines: [] }));
          await loadSites();
        } catch (e) {
          const err = toApiError(e);
          if (current && isStaleConflict(err)) {
            replace(notice, staleNotice('The site was', () => void reloadSite()));
          } else {
            replace(error, refusal(err, 'The site was not saved', (f) => (f === 'templateId' ? 'Template' : f)));
            errs = err.fields;
            if (Object.keys(errs).length > 0) render();
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
    form.querySelector<HTMLInputElement>('#site-name')?.focus();
  }

  function openDelete(s: Site): void {
    const d = openDialog(`Delete site ${s.name}?`, 'dialog-remove');
    const error = h('div', { className: 'dialog-error' });
    replace(
      d.body,
      h('p', {}, 'Users already placed on it keep their number. A site that still has numbers in the inventory cannot be deleted: move or remove them first.'),
      error,
    );
    const ok = h('button', { type: 'button', className: 'btn btn-danger' }, 'Delete site');
    ok.addEventListener('click', () => {
      ok.disabled = true;
      void (async () => {
        try {
          await deleteSite(app.api, customerId, s.id, s.version);
          d.close();
          replace(status, summaryBox({ level: 'ok', title: `Deleted site ${s.name}.`, lines: [] }));
          await loadSites();
        } catch (e) {
          replace(error, refusal(e, 'The site was not deleted'));
          ok.disabled = false;
        }
      })();
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), ok);
  }

  async function reload(): Promise<void> {
    await Promise.all([loadSettings(), loadSites()]);
    // The usage location column shows the customer's default: render once both are in.
    if (!signal.aborted && sites.length > 0) renderSites();
  }

  void reload();
  return { el, reload };
}
