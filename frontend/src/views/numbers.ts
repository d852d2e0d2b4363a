// The Numbers tab of a customer: the number inventory, server-side paged, searched (number, extension, user) and
// filtered (site, status, type). Admins add a number or a range, import the tenant's numbers from Teams, assign a
// number to a user by hand, release one (it goes into quarantine), change its site or extension, and remove a free
// one. A viewer sees the list without a single edit control.

import { toApiError } from '../api/client';
import {
  addNumbers,
  assignNumber,
  deleteNumber,
  getSettings,
  importNumbers,
  listNumbers,
  listSites,
  releaseNumber,
  updateNumber,
} from '../api/provisioning';
import type { NumberStatus, NumberType, PhoneNumber, Site, User } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { userName } from '../lib/licensing';
import {
  addNumbersInput,
  addResultText,
  canAssign,
  EMPTY_ADD_DRAFT,
  extensionOf,
  importResultText,
  isFree,
  MAX_EXTENSION_DIGITS,
  normaliseNumber,
  NUMBER_STATUSES,
  NUMBER_TYPES,
  numberStatusLabel,
  numberStatusText,
  numberTypeLabel,
  rangeSize,
  releaseText,
  validateAddNumbers,
  type AddNumbersDraft,
} from '../lib/numbers';
import { CursorPager } from '../lib/paging';
import { isStaleConflict, sortSites } from '../lib/sites';
import { fillPage } from '../lib/users';
import { can } from '../permissions';
import { href } from '../router';
import { errorAlert, messageRow, pagerControls, table, type Panel } from './common';
import { button, openDialog, refusal, summaryBox } from './licenceActions';
import { userPicker } from './userPicker';

/** Numbers per page. */
export const NUMBERS_PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 300;
/** The most numbers a result box lists by number. */
const LIST_AT_MOST = 20;

function listSome(label: string, xs: readonly string[] | null | undefined): string[] {
  const all = xs ?? [];
  if (all.length === 0) return [];
  const shown = all.slice(0, LIST_AT_MOST).join(', ');
  return [`${label}: ${shown}${all.length > LIST_AT_MOST ? ` and ${all.length - LIST_AT_MOST} more` : ''}`];
}

function fieldError(id: string, msg: string | undefined): HTMLElement {
  return h('p', { id, className: 'field-error' }, msg ?? '');
}

/** The options of a site menu: the sites in placement order, after `first` options. */
function siteOptions(sites: readonly Site[], first: [string, string][]): HTMLOptionElement[] {
  return [...first.map(([v, l]) => h('option', { value: v }, l)), ...sortSites(sites).map((s) => h('option', { value: s.id }, s.name))];
}

/** The Numbers tab. */
export function numbersPanel({ app, signal }: ViewProps, customerId: string): Panel {
  const canEdit = can(app.me?.role, 'customer:settings');
  const pager = new CursorPager();
  const headers = ['Number', 'Extension', 'Type', 'Site', 'Status', 'User', 'Source', ...(canEdit ? ['Actions'] : [])];
  const { el: tableEl, body } = table('Numbers', headers, 'table-numbers');
  const status = h('div', { className: 'numbers-msg', 'aria-live': 'polite' });
  const controls = pagerControls('Numbers', pager, (c) => void loadPage(c));
  let sites: Site[] = [];
  let quarantineDays: number | null = null;

  const search = h('input', { type: 'search', id: 'numbers-search', name: 'q', placeholder: 'Number, extension or user…', autocomplete: 'off', spellcheck: 'false' });
  const siteSel = h('select', { id: 'numbers-site', name: 'siteId' }, h('option', { value: '' }, 'All sites'));
  const statusSel = h('select', { id: 'numbers-status', name: 'status' }, h('option', { value: '' }, 'Any status'), ...NUMBER_STATUSES.map((s) => h('option', { value: s.value }, s.label)));
  const typeSel = h('select', { id: 'numbers-type', name: 'type' }, h('option', { value: '' }, 'Any type'), ...NUMBER_TYPES.map((t) => h('option', { value: t.value }, t.label)));
  const clear = button('Clear', () => {
    clearTimeout(debounce);
    search.value = '';
    siteSel.value = '';
    statusSel.value = '';
    typeSel.value = '';
    apply();
  }, 'btn btn-ghost');
  const form = h(
    'form',
    { className: 'toolbar', role: 'search', 'aria-label': 'Search and filter numbers', novalidate: true },
    h('div', { className: 'field field-grow' }, h('label', { for: 'numbers-search' }, 'Search'), search),
    h('div', { className: 'field' }, h('label', { for: 'numbers-site' }, 'Site'), siteSel),
    h('div', { className: 'field' }, h('label', { for: 'numbers-status' }, 'Status'), statusSel),
    h('div', { className: 'field' }, h('label', { for: 'numbers-type' }, 'Type'), typeSel),
    h('div', { className: 'field field-submit' }, clear),
  );
  const addBtn = canEdit ? button('Add numbers', () => openAdd(), 'btn btn-primary') : null;
  const importBtn = canEdit ? button('Import from Teams', () => openImport(), 'btn') : null;
  // The dialogs offer the customer's sites: they open once the sites are loaded.
  for (const b of [addBtn, importBtn]) if (b) b.disabled = true;

  const el = h(
    'section',
    { className: 'card tab-panel', 'aria-labelledby': 'numbers-title' },
    h('div', { className: 'panel-head' }, h('h2', { id: 'numbers-title' }, 'Numbers'), canEdit ? h('div', { className: 'actions actions-tight' }, importBtn, addBtn) : null),
    form,
    status,
    h('div', { className: 'table-wrap' }, tableEl),
    h('div', { className: 'table-foot' }, h('span'), controls.el),
  );

  let state = { q: '', siteId: '', status: '' as NumberStatus | '', type: '' as NumberType | '' };
  const siteName = (id: string): string => sites.find((s) => s.id === id)?.name ?? (id ? `Site ${id} (gone)` : '');
  const filtered = (): boolean => state.q !== '' || state.siteId !== '' || state.status !== '' || state.type !== '';

  function row(n: PhoneNumber): HTMLTableRowElement {
    const actions: HTMLElement[] = [];
    if (canEdit) {
      if (n.status === 'assigned') actions.push(button('Release…', () => openRelease(n), 'btn btn-small'));
      if (canAssign(n)) actions.push(button('Assign…', () => openAssign(n), 'btn btn-small'));
      actions.push(button('Edit', () => openEdit(n), 'btn btn-small'));
      if (isFree(n)) actions.push(button('Remove', () => openDelete(n), 'btn btn-small'));
    }
    return h(
      'tr',
      { 'data-number': n.number, 'data-status': n.status, 'data-site-id': n.siteId, 'data-user-id': n.userId || null },
      h('th', { scope: 'row', className: 'mono' }, n.number),
      h('td', { className: 'mono' }, n.extension || h('span', { className: 'muted' }, '—')),
      h('td', {}, numberTypeLabel(n.type)),
      h('td', {}, n.siteId ? siteName(n.siteId) : h('span', { className: 'muted' }, 'No site')),
      h('td', {}, h('span', { className: `badge badge-number-${n.status}`, title: numberStatusText(n) }, numberStatusLabel(n.status)), n.status === 'quarantined' ? h('div', { className: 'small muted' }, numberStatusText(n)) : null),
      h('td', {}, n.userId ? h('a', { href: href({ name: 'user', id: customerId, userId: n.userId }) }, n.userName || n.userId) : h('span', { className: 'muted' }, '—')),
      h('td', { className: 'small' }, n.source === 'graph' ? 'Teams' : 'Added here'),
      canEdit ? h('td', { className: 'nowrap' }, h('div', { className: 'actions', role: 'group', 'aria-label': `Actions for ${n.number}` }, ...actions)) : null,
    );
  }

  let inflight: AbortController | null = null;
  let seq = 0;

  async function loadPage(cursor: string): Promise<void> {
    inflight?.abort();
    const ctrl = new AbortController();
    inflight = ctrl;
    const stop = (): void => ctrl.abort();
    signal.addEventListener('abort', stop, { once: true });
    const my = ++seq;
    const q = { ...state };
    controls.update(true);
    tableEl.setAttribute('aria-busy', 'true');
    if (body.rows.length === 0) replace(body, messageRow(headers.length, 'Loading…'));
    try {
      const res = await fillPage((cur, limit) => listNumbers(app.api, customerId, { ...q, cursor: cur, limit }, ctrl.signal), cursor, NUMBERS_PAGE_SIZE);
      if (my !== seq || signal.aborted) return;
      pager.loaded(res.nextCursor);
      let empty: string;
      if (res.nextCursor !== '') empty = 'No matching numbers in this part of the list. Press Next to keep looking.';
      else if (filtered()) empty = pager.pageNumber === 1 ? 'No numbers match the search and filters.' : 'No more matching numbers.';
      else empty = pager.pageNumber === 1 ? (canEdit ? 'No numbers yet. Add some, or import them from Teams.' : 'No numbers yet.') : 'No more numbers.';
      replace(body, ...(res.items.length > 0 ? res.items.map(row) : [messageRow(headers.length, empty)]));
    } catch (e) {
      if (my !== seq || signal.aborted) return;
      replace(body);
      replace(status, errorAlert(toApiError(e), 'Cannot load numbers'));
    } finally {
      signal.removeEventListener('abort', stop);
      if (my === seq && !signal.aborted) {
        controls.update(false);
        tableEl.removeAttribute('aria-busy');
      }
    }
  }

  function apply(): void {
    const next = { q: search.value.trim(), siteId: siteSel.value, status: statusSel.value as NumberStatus | '', type: typeSel.value as NumberType | '' };
    if (next.q === state.q && next.siteId === state.siteId && next.status === state.status && next.type === state.type) return;
    state = next;
    replace(status);
    pager.reset();
    void loadPage('');
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener('abort', () => clearTimeout(debounce), { once: true });
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(apply, SEARCH_DEBOUNCE_MS);
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearTimeout(debounce);
    apply();
  });
  for (const s of [siteSel, statusSel, typeSel]) s.addEventListener('change', apply);

  async function loadSites(): Promise<void> {
    try {
      const res = await listSites(app.api, customerId, signal);
      if (signal.aborted) return;
      sites = res.items ?? [];
      const keep = siteSel.value;
      replace(siteSel, ...siteOptions(sites, [['', 'All sites']]));
      siteSel.value = keep && sites.some((s) => s.id === keep) ? keep : '';
    } catch (e) {
      if (signal.aborted) return;
      replace(status, refusal(e, 'Cannot load the sites'));
    } finally {
      for (const b of [addBtn, importBtn]) if (b) b.disabled = false;
    }
  }

  /** After a change: the message, and the page again (the sites first, so that names show). */
  function done(msg: HTMLElement): void {
    replace(status, msg);
    void loadPage(pager.cursor);
  }

  // -- Add

  function openAdd(): void {
    const d = openDialog('Add numbers', 'dialog-numbers');
    let draft: AddNumbersDraft = { ...EMPTY_ADD_DRAFT, siteId: state.siteId || (sortSites(sites).find((s) => s.default)?.id ?? '') };
    let errs: Record<string, string> = {};
    const error = h('div', { className: 'dialog-error' });
    const form = h('form', { className: 'form numbers-form', novalidate: true, 'aria-label': 'Numbers to add' });
    const preview = h('p', { className: 'small muted range-preview', 'aria-live': 'polite' });
    const save = h('button', { type: 'button', className: 'btn btn-primary' }, 'Add');

    const updatePreview = (): void => {
      if (draft.mode === 'range') {
        const r = rangeSize(draft.from, draft.to);
        const ext = draft.extensionDigits > 0 && r.ok ? ` Extensions ${extensionOf(draft.from, draft.extensionDigits)}…${extensionOf(draft.to, draft.extensionDigits)}.` : '';
        replace(preview, draft.from.trim() && draft.to.trim() ? (r.ok ? `${r.count} ${r.count === 1 ? 'number' : 'numbers'}.${ext}` : r.message) : 'Enter the first and the last number of the range.');
        save.textContent = r.ok ? `Add ${r.count} ${r.count === 1 ? 'number' : 'numbers'}` : 'Add';
      } else {
        const ext = draft.extension.trim() || extensionOf(draft.number, draft.extensionDigits);
        replace(preview, ext && draft.number.trim() ? `${normaliseNumber(draft.number)}, extension ${ext}.` : '');
        save.textContent = 'Add number';
      }
    };

    const text = (id: string, key: 'number' | 'from' | 'to' | 'extension', label: string, attrs: Record<string, string | number | boolean> = {}): HTMLElement => {
      const input = h('input', { type: 'text', id, name: key, value: draft[key], autocomplete: 'off', spellcheck: 'false', className: 'mono', 'aria-describedby': `${id}-error`, 'aria-invalid': errs[key] ? 'true' : null, ...attrs });
      input.addEventListener('input', () => {
        draft = { ...draft, [key]: input.value };
        updatePreview();
      });
      return h('div', { className: 'field' }, h('label', { for: id }, label), input, fieldError(`${id}-error`, errs[key]));
    };

    function render(): void {
      const mode = (value: 'single' | 'range', label: string): HTMLElement => {
        const id = `add-mode-${value}`;
        const r = h('input', { type: 'radio', id, name: 'mode', value, checked: draft.mode === value });
        r.addEventListener('change', () => {
          if (!r.checked) return;
          draft = { ...draft, mode: value };
          errs = {};
          render();
        });
        return h('span', { className: 'radio' }, r, h('label', { for: id }, label));
      };
      const typeSel = h('select', { id: 'add-type', name: 'type', 'aria-invalid': errs['type'] ? 'true' : null, 'aria-describedby': 'add-type-error' }, ...NUMBER_TYPES.map((t) => h('option', { value: t.value }, t.label)));
      typeSel.value = draft.type;
      typeSel.addEventListener('change', () => (draft = { ...draft, type: typeSel.value as NumberType }));
      const site = h(
        'select',
        { id: 'add-site', name: 'siteId', 'aria-invalid': errs['siteId'] ? 'true' : null, 'aria-describedby': 'add-site-error' },
        ...siteOptions(sites, [['', sites.length > 0 ? 'Choose a site…' : 'No sites yet: create one first']]),
      );
      site.value = draft.siteId;
      site.addEventListener('change', () => (draft = { ...draft, siteId: site.value }));
      const digits = h('input', { type: 'number', id: 'add-ext-digits', name: 'extensionDigits', min: 0, max: MAX_EXTENSION_DIGITS, step: 1, value: String(draft.extensionDigits), className: 'input-short', 'aria-describedby': 'add-ext-digits-error add-ext-digits-help', 'aria-invalid': errs['extensionDigits'] ? 'true' : null });
      digits.addEventListener('input', () => {
        draft = { ...draft, extensionDigits: digits.value.trim() === '' ? 0 : Number(digits.value) };
        updatePreview();
      });
      replace(
        form,
        h('div', { className: 'field-radios', role: 'radiogroup', 'aria-label': 'What to add' }, mode('single', 'One number'), mode('range', 'A range')),
        draft.mode === 'single'
          ? h('div', { className: 'form-row' }, text('add-number', 'number', 'Number (E.164)', { placeholder: '+441632960001' }), text('add-extension', 'extension', 'Extension (optional)', { placeholder: '1001', className: 'mono input-short', maxlength: MAX_EXTENSION_DIGITS }))
          : h('div', { className: 'form-row' }, text('add-from', 'from', 'First number', { placeholder: '+441632960000' }), text('add-to', 'to', 'Last number', { placeholder: '+441632960099' })),
        h(
          'div',
          { className: 'form-row' },
          h('div', { className: 'field' }, h('label', { for: 'add-type' }, 'Type'), typeSel, fieldError('add-type-error', errs['type'])),
          h('div', { className: 'field' }, h('label', { for: 'add-site' }, 'Site'), site, fieldError('add-site-error', errs['siteId'])),
          draft.mode === 'range' || !draft.extension.trim()
            ? h(
                'div',
                { className: 'field' },
                h('label', { for: 'add-ext-digits' }, 'Extension digits'),
                digits,
                h('p', { id: 'add-ext-digits-help', className: 'help' }, 'The last n digits become the extension (0 = none).'),
                fieldError('add-ext-digits-error', errs['extensionDigits']),
              )
            : null,
        ),
        preview,
      );
      updatePreview();
    }

    save.addEventListener('click', () => {
      replace(error);
      errs = validateAddNumbers(draft);
      if (Object.keys(errs).length > 0) {
        render();
        return;
      }
      save.disabled = true;
      void (async () => {
        try {
          const res = await addNumbers(app.api, customerId, addNumbersInput(draft));
          d.close();
          const added = res.added ?? [];
          const existing = res.existing ?? [];
          done(
            h(
              'div',
              { 'data-testid': 'add-result', 'data-added': String(added.length), 'data-existing': String(existing.length) },
              summaryBox({
                level: added.length > 0 ? 'ok' : 'partial',
                title: addResultText(added, existing),
                lines: [...listSome('Added', added), ...listSome('Already in the inventory', existing)],
              }),
            ),
          );
        } catch (e) {
          const err = toApiError(e);
          replace(error, refusal(err, 'No number was added'));
          if (Object.keys(err.fields).length > 0) {
            errs = err.fields;
            render();
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
    replace(d.body, form, error);
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), save);
  }

  // -- Import

  function openImport(): void {
    const d = openDialog('Import numbers from Teams', 'dialog-import');
    const error = h('div', { className: 'dialog-error' });
    const site = h('select', { id: 'import-site', name: 'siteId' }, ...siteOptions(sites, [['', 'No site']]));
    site.value = state.siteId || (sortSites(sites).find((s) => s.default)?.id ?? '');
    const go = h('button', { type: 'button', className: 'btn btn-primary' }, 'Import');
    replace(
      d.body,
      h('p', {}, 'Reads every telephone number of the tenant from Microsoft Teams: numbers assigned to a user are recorded as theirs, free ones as available. Numbers already in the inventory keep their site and extension.'),
      h('div', { className: 'field' }, h('label', { for: 'import-site' }, 'Site of the new numbers'), site),
      error,
    );
    go.addEventListener('click', () => {
      replace(error);
      go.disabled = true;
      go.textContent = 'Importing…';
      void (async () => {
        try {
          const r = await importNumbers(app.api, customerId, site.value);
          d.close();
          const conflicts = r.conflicts ?? [];
          done(
            h(
              'div',
              { 'data-testid': 'import-result', 'data-read': String(r.read), 'data-created': String(r.created), 'data-updated': String(r.updated) },
              summaryBox({
                level: conflicts.length > 0 ? 'partial' : 'ok',
                title: importResultText(r),
                lines: conflicts.slice(0, LIST_AT_MOST).concat(conflicts.length > LIST_AT_MOST ? [`and ${conflicts.length - LIST_AT_MOST} more conflicts`] : []),
              }),
            ),
          );
        } catch (e) {
          replace(error, refusal(e, 'Nothing was imported'));
          go.disabled = false;
          go.textContent = 'Import';
        }
      })();
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), go);
  }

  // -- Assign by hand

  function openAssign(n: PhoneNumber): void {
    const d = openDialog(`Assign ${n.number}`, 'dialog-assign-number');
    const error = h('div', { className: 'dialog-error' });
    const go = h('button', { type: 'button', className: 'btn btn-primary', disabled: true }, 'Assign');
    let target: User | null = null;
    const picker = userPicker({ app, signal }, customerId, {
      id: 'assign-number-user',
      label: 'Find a user',
      multiple: false,
      onChange: (us) => {
        target = us[0] ?? null;
        go.disabled = target === null;
      },
      note: (u) => (u.licensed ? '' : 'Unlicensed: Teams will not know them'),
    });
    replace(
      d.body,
      h('p', {}, `${numberTypeLabel(n.type)} number${n.siteId ? ` of site ${siteName(n.siteId)}` : ''}. It is assigned in Teams, then recorded as the user’s. The user needs Teams Phone and must be in Teams already.`),
      picker.el,
      error,
    );
    go.addEventListener('click', () => {
      const u = target;
      if (!u) return;
      replace(error);
      go.disabled = true;
      go.textContent = 'Assigning…';
      void (async () => {
        try {
          const res = await assignNumber(app.api, customerId, n.number, u.id);
          d.close();
          done(summaryBox({ level: 'ok', title: `Assigned ${res.number} to ${res.userName || userName(u)}.`, lines: [] }));
        } catch (e) {
          replace(error, refusal(e, `${n.number} was not assigned`));
          go.disabled = false;
          go.textContent = 'Assign';
        }
      })();
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), go);
    picker.focus();
  }

  // -- Release

  function openRelease(n: PhoneNumber): void {
    const d = openDialog(`Release ${n.number}?`, 'dialog-release');
    const error = h('div', { className: 'dialog-error' });
    replace(d.body, h('p', { 'data-testid': 'release-text' }, releaseText(n, quarantineDays)), error);
    const ok = h('button', { type: 'button', className: 'btn btn-danger' }, 'Release number');
    ok.addEventListener('click', () => {
      replace(error);
      ok.disabled = true;
      ok.textContent = 'Releasing…';
      void (async () => {
        try {
          const res = await releaseNumber(app.api, customerId, n.number);
          d.close();
          done(summaryBox({ level: 'ok', title: `Released ${res.number}. ${numberStatusText(res)}.`, lines: [] }));
        } catch (e) {
          replace(error, refusal(e, `${n.number} was not released`));
          ok.disabled = false;
          ok.textContent = 'Release number';
        }
      })();
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), ok);
  }

  // -- Edit site / extension

  function openEdit(n: PhoneNumber): void {
    const d = openDialog(`Edit ${n.number}`, 'dialog-edit-number');
    const error = h('div', { className: 'dialog-error' });
    const site = h('select', { id: 'edit-number-site', name: 'siteId' }, ...siteOptions(sites, [['', 'No site']]));
    if (n.siteId && !sites.some((s) => s.id === n.siteId)) site.append(h('option', { value: n.siteId }, siteName(n.siteId)));
    site.value = n.siteId;
    const ext = h('input', { type: 'text', id: 'edit-number-ext', name: 'extension', value: n.extension, className: 'mono input-short', maxlength: MAX_EXTENSION_DIGITS, autocomplete: 'off', 'aria-describedby': 'edit-number-ext-error' });
    const extErr = fieldError('edit-number-ext-error', '');
    const save = h('button', { type: 'button', className: 'btn btn-primary' }, 'Save');
    replace(
      d.body,
      h('div', { className: 'field' }, h('label', { for: 'edit-number-site' }, 'Site'), site),
      h('div', { className: 'field' }, h('label', { for: 'edit-number-ext' }, 'Extension'), ext, h('p', { className: 'help' }, `1 to ${MAX_EXTENSION_DIGITS} digits, or empty for none.`), extErr),
      error,
    );
    save.addEventListener('click', () => {
      replace(error);
      const e = ext.value.trim();
      if (e !== '' && !new RegExp(`^\\d{1,${MAX_EXTENSION_DIGITS}}$`).test(e)) {
        replace(extErr, `An extension is 1 to ${MAX_EXTENSION_DIGITS} digits.`);
        ext.setAttribute('aria-invalid', 'true');
        return;
      }
      save.disabled = true;
      void (async () => {
        try {
          const res = await updateNumber(app.api, customerId, n.number, { siteId: site.value, extension: e, version: n.version });
          d.close();
          done(summaryBox({ level: 'ok', title: `Saved ${res.number}.`, lines: [] }));
        } catch (err) {
          const ae = toApiError(err);
          replace(
            error,
            isStaleConflict(ae)
              ? h('div', { className: 'alert alert-warn', role: 'alert', 'data-code': 'conflict' }, `${n.number} was changed by someone else — close this, and edit it again from the reloaded list.`)
              : refusal(ae, `${n.number} was not saved`),
          );
          if (isStaleConflict(ae)) void loadPage(pager.cursor);
          save.disabled = false;
        }
      })();
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), save);
  }

  // -- Remove a free number

  function openDelete(n: PhoneNumber): void {
    const d = openDialog(`Remove ${n.number}?`, 'dialog-remove');
    const error = h('div', { className: 'dialog-error' });
    replace(d.body, h('p', {}, 'It leaves the inventory (Teams is not changed). Import or add it again to bring it back.'), error);
    const ok = h('button', { type: 'button', className: 'btn btn-danger' }, 'Remove number');
    ok.addEventListener('click', () => {
      replace(error);
      ok.disabled = true;
      void (async () => {
        try {
          await deleteNumber(app.api, customerId, n.number, n.version);
          d.close();
          done(summaryBox({ level: 'ok', title: `Removed ${n.number} from the inventory.`, lines: [] }));
        } catch (e) {
          replace(error, refusal(e, `${n.number} was not removed`));
          ok.disabled = false;
        }
      })();
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), ok);
  }

  async function loadQuarantine(): Promise<void> {
    if (!canEdit) return;
    try {
      const s = await getSettings(app.api, customerId, signal);
      quarantineDays = s.quarantineDays;
    } catch {
      quarantineDays = null; // the release dialog then says "the customer's quarantine period"
    }
  }

  async function reload(): Promise<void> {
    await loadSites();
    await loadPage(pager.cursor);
  }

  void loadQuarantine();
  void reload();
  return { el, reload };
}
