// The licence factor rules editor, for a customer (its own rules, or the provider's it inherits) and for the
// provider's default rules (the dashboard). An ordered list of rules: each with a name, an enabled switch, how the
// licences were managed, and criteria rows (field + regular expression, all must match); add, remove and move rules
// and criteria. "Preview" (customers only) shows the counts the draft would give next to the current ones, saving
// nothing; "Save" sends the version read (409: changed by someone else — reload); "Reset to provider rules" drops a
// customer's own. A bad pattern shows the server's message at its row. Without the right to edit, the rules read as
// text with no control.

import { toApiError } from '../api/client';
import { getFactorRules, resetFactorRules, saveFactorRules, type CurrentUsage, type FactorRuleInput, type RulesView, type Usage } from '../api/usage';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { formatCount, formatDateTime } from '../lib/format';
import {
  addRule,
  addRuleCriterion,
  changeRule,
  changeRuleCriterion,
  compareUsage,
  criterionErrors,
  FACTOR_FIELDS,
  formatDelta,
  formErrors,
  isStale,
  MANAGED_BY,
  MAX_RULE_CRITERIA,
  MAX_RULES,
  move,
  removeRule,
  removeRuleCriterion,
  ruleErrors,
  rulesChanged,
  rulesDraft,
  rulesInput,
  ruleText,
  validateRules,
  type RuleDraft,
} from '../lib/usage';
import type { FactorField, ManagedBy } from '../api/usage';
import { staleNotice } from './sites';
import { button, openDialog, refusal, summaryBox } from './licenceActions';

export interface FactorRulesOptions {
  /** The customer whose rules these are; "" = the provider's defaults. */
  customerId: string;
  canEdit: boolean;
  /** Counts the draft's rules without saving (on the customer, or on the one previewOn chose). */
  preview?: (rules: FactorRuleInput[], signal: AbortSignal) => Promise<CurrentUsage>;
  /** The counts now, for the preview's comparison. */
  current?: (signal: AbortSignal) => Usage | null | Promise<Usage | null>;
  /** A control shown before the Preview button (the provider's rules: the customer to preview them on). */
  previewOn?: HTMLElement;
  /** A line under the preview's title (e.g. which customer it counted). */
  previewNote?: () => string;
  /** Called after a save or reset (the counts may have changed). */
  onChanged?: (v: RulesView) => void;
}

export interface FactorRulesEditor {
  el: HTMLElement;
  reload(): Promise<void>;
}

/** The editor card. */
export function factorRulesEditor({ app, signal }: Pick<ViewProps, 'app' | 'signal'>, o: FactorRulesOptions): FactorRulesEditor {
  const p = o.customerId ? 'rules' : 'prules';
  const scopeNote = h('p', { className: 'muted small', 'data-testid': `${p}-scope` });
  const msg = h('div', { className: 'rules-msg', 'aria-live': 'polite' });
  const body = h('div', { className: 'rules-body' }, h('p', { className: 'muted' }, 'Loading…'));
  const previewBox = h('div', { className: 'rules-preview', 'aria-live': 'polite' });
  const dirtyNote = h('span', { className: 'small muted dirty-note', 'aria-live': 'polite' });
  const el = h(
    'section',
    { className: 'card rules-card', 'aria-labelledby': `${p}-title`, 'data-testid': `${p}-card` },
    h('div', { className: 'panel-head' }, h('h2', { id: `${p}-title` }, o.customerId ? 'Licence factor rules' : 'Default licence factor rules'), dirtyNote),
    scopeNote,
    h(
      'p',
      { className: 'muted small' },
      'Every licensed user is counted once, by the first enabled rule (from the top) whose criteria all match. Patterns are regular expressions matched against the whole value, ignoring letter case; alternatives go in one pattern (Sales|Support).',
    ),
    msg,
    body,
    previewBox,
  );

  let view: RulesView | null = null;
  let draft: RuleDraft[] = [];
  let errs: Record<string, string> = {};
  let busy = false;
  let previewed: string | null = null; // JSON of the rules last previewed

  function scopeText(v: RulesView): string {
    if (!o.customerId) return v.version > 0 ? `Every customer without rules of its own uses these. Version ${v.version}.` : 'Every customer without rules of its own uses these. Not saved yet: these are the built-in defaults.';
    return v.inherited
      ? 'This customer uses the provider’s rules. Saving gives it rules of its own, which replace the provider’s for it.'
      : `This customer has rules of its own (version ${v.version}); they replace the provider’s for it.`;
  }

  function renderReadOnly(v: RulesView): void {
    replace(
      body,
      v.rules.length > 0
        ? h(
            'ol',
            { className: 'rules-readonly', 'aria-label': 'Rules, in order' },
            ...v.rules.map((r) =>
              h(
                'li',
                { 'data-rule-id': r.id },
                h('strong', {}, r.name),
                ' ',
                h('span', { className: r.enabled ? 'badge badge-ok badge-inline' : 'badge badge-disabled badge-inline' }, r.enabled ? 'On' : 'Off'),
                h('div', { className: 'small muted' }, ruleText(r)),
              ),
            ),
          )
        : h('p', { className: 'muted' }, 'No rules: every licensed user is unmatched.'),
    );
  }

  function fieldError(id: string, text: string | undefined): HTMLElement {
    return h('p', { id, className: 'field-error' }, text ?? '');
  }

  function markDirty(): void {
    if (!view) return;
    const changed = rulesChanged(draft, view.rules);
    replace(dirtyNote, changed ? 'Unsaved changes' : '');
    if (previewed !== null && previewed !== JSON.stringify(rulesInput(draft))) {
      previewBox.querySelector('.preview-stale')?.removeAttribute('hidden');
    }
  }

  /** Re-renders the editor after a change of structure, and puts the keyboard on `focus`. */
  function rerender(next: RuleDraft[], focus?: string): void {
    draft = next;
    renderEditor();
    markDirty();
    if (focus) body.querySelector<HTMLElement>(focus)?.focus();
  }

  function ruleItem(r: RuleDraft, i: number): HTMLElement {
    const rid = `${p}-${r.key}`;
    const rerrs = ruleErrors(errs, i);
    const name = h('input', {
      type: 'text',
      id: `${rid}-name`,
      value: r.name,
      maxlength: 80,
      autocomplete: 'off',
      'data-rule-name': String(i),
      'aria-invalid': rerrs['name'] ? 'true' : null,
      'aria-describedby': `${rid}-name-error`,
    });
    name.addEventListener('input', () => {
      draft = changeRule(draft, i, { name: name.value });
      legendText.textContent = `Rule ${i + 1}: ${name.value || 'unnamed'}`;
      markDirty();
    });
    const enabled = h('input', { type: 'checkbox', role: 'switch', id: `${rid}-enabled`, checked: r.enabled, 'data-rule-enabled': String(i) });
    const enabledState = h('span', { className: 'switch-state', 'aria-hidden': 'true' }, r.enabled ? 'On' : 'Off');
    enabled.addEventListener('change', () => {
      draft = changeRule(draft, i, { enabled: enabled.checked });
      replace(enabledState, enabled.checked ? 'On' : 'Off');
      markDirty();
    });
    const managed = h('select', { id: `${rid}-managed`, 'data-rule-managed': String(i), 'aria-invalid': rerrs['managedBy'] ? 'true' : null }, ...MANAGED_BY.map((m) => h('option', { value: m.value }, m.label)));
    managed.value = r.managedBy;
    managed.addEventListener('change', () => {
      draft = changeRule(draft, i, { managedBy: managed.value as ManagedBy });
      markDirty();
    });

    const crits = h(
      'ol',
      { className: 'criteria-rows', 'aria-label': `Criteria of rule ${i + 1}, all must match` },
      ...r.criteria.map((c, j) => {
        const cid = `${rid}-c${c.key}`;
        const ce = criterionErrors(errs, i, j);
        const cerr = ce.message;
        const field = h(
          'select',
          { id: `${cid}-field`, 'data-criterion-field': `${i}.${j}`, 'aria-label': `Rule ${i + 1}, criterion ${j + 1}: field`, 'aria-invalid': ce.field ? 'true' : null, 'aria-describedby': `${cid}-error` },
          ...FACTOR_FIELDS.map((f) => h('option', { value: f.value }, f.label)),
        );
        field.value = c.field;
        const pattern = h('input', {
          type: 'text',
          id: `${cid}-pattern`,
          value: c.pattern,
          maxlength: 500,
          autocomplete: 'off',
          spellcheck: 'false',
          className: 'mono',
          placeholder: FACTOR_FIELDS.find((f) => f.value === c.field)?.placeholder ?? '',
          'data-criterion-pattern': `${i}.${j}`,
          'aria-label': `Rule ${i + 1}, criterion ${j + 1}: pattern`,
          'aria-invalid': ce.pattern ? 'true' : null,
          'aria-describedby': `${cid}-error`,
        });
        field.addEventListener('change', () => {
          draft = changeRuleCriterion(draft, i, j, { field: field.value as FactorField });
          pattern.placeholder = FACTOR_FIELDS.find((f) => f.value === field.value)?.placeholder ?? '';
          markDirty();
        });
        pattern.addEventListener('input', () => {
          draft = changeRuleCriterion(draft, i, j, { pattern: pattern.value });
          markDirty();
        });
        const remove = button('Remove', () => rerender(removeRuleCriterion(draft, i, j), `#${rid}-add-criterion`), 'btn btn-small');
        remove.setAttribute('aria-label', `Remove criterion ${j + 1} of rule ${i + 1}`);
        return h(
          'li',
          { className: cerr ? 'criterion-row has-error' : 'criterion-row', 'data-key': String(c.key), 'data-criterion': `${i}.${j}` },
          h('div', { className: 'criterion-inputs' }, field, h('span', { className: 'muted small' }, 'matches'), pattern, remove),
          fieldError(`${cid}-error`, cerr),
        );
      }),
    );
    const addCrit = button('Add criterion', () => rerender(addRuleCriterion(draft, i), `li.rule[data-key="${r.key}"] .criterion-row:last-child input`), 'btn btn-small');
    addCrit.id = `${rid}-add-criterion`;
    addCrit.disabled = r.criteria.length >= MAX_RULE_CRITERIA;

    const up = button('Move up', () => rerender(move(draft, i, -1), `li.rule[data-key="${r.key}"] [data-move="up"]`), 'btn btn-small');
    up.setAttribute('data-move', 'up');
    up.setAttribute('aria-label', `Move rule ${i + 1} up`);
    up.disabled = i === 0;
    const down = button('Move down', () => rerender(move(draft, i, 1), `li.rule[data-key="${r.key}"] [data-move="down"]`), 'btn btn-small');
    down.setAttribute('data-move', 'down');
    down.setAttribute('aria-label', `Move rule ${i + 1} down`);
    down.disabled = i === draft.length - 1;
    const remove = button('Remove rule', () => rerender(removeRule(draft, i), `#${p}-add-rule`), 'btn btn-small btn-danger-ghost');
    remove.setAttribute('aria-label', `Remove rule ${i + 1}`);

    const legendText = h('span', {}, `Rule ${i + 1}: ${r.name || 'unnamed'}`);
    const other = Object.entries(rerrs).filter(([k]) => k !== 'name' && k !== 'managedBy');
    return h(
      'li',
      { className: 'rule', 'data-key': String(r.key), 'data-rule-index': String(i), 'data-rule-id': r.id || null },
      h(
        'fieldset',
        { className: r.enabled ? 'rule-box' : 'rule-box rule-off' },
        h('legend', {}, legendText),
        h(
          'div',
          { className: 'rule-head' },
          h('div', { className: 'field' }, h('label', { for: `${rid}-name` }, 'Name'), name, fieldError(`${rid}-name-error`, rerrs['name'])),
          h('div', { className: 'field field-check rule-switch' }, enabled, h('label', { for: `${rid}-enabled` }, 'Enabled'), enabledState),
          h('div', { className: 'field' }, h('label', { for: `${rid}-managed` }, 'Licences managed'), managed, fieldError(`${rid}-managed-error`, rerrs['managedBy'])),
        ),
        r.criteria.length > 0 ? crits : h('p', { className: 'muted small' }, r.managedBy ? 'No criteria: the licences managed setting alone decides.' : 'No criteria: matches every licensed user not counted above (a catch-all).'),
        other.length > 0 ? h('p', { className: 'field-error' }, other.map(([, v]) => v).join(' ')) : null,
        h('div', { className: 'rule-actions actions', role: 'group', 'aria-label': `Actions for rule ${i + 1}` }, addCrit, up, down, remove),
      ),
    );
  }

  function renderEditor(): void {
    const v = view;
    if (!v) return;
    const addBtn = button('Add rule', () => rerender(addRule(draft), `ol.rules > li:last-child input[data-rule-name]`), 'btn btn-small');
    addBtn.id = `${p}-add-rule`;
    addBtn.disabled = draft.length >= MAX_RULES;
    const previewBtn = o.preview ? button('Preview', () => void doPreview(), 'btn') : null;
    const saveBtn = button('Save rules', () => void doSave(), 'btn btn-primary');
    const discardBtn = button('Discard changes', () => {
      errs = {};
      replace(msg);
      rerender(rulesDraft(v.rules));
    }, 'btn btn-ghost');
    const resetBtn = o.customerId && v.scope === 'customer' ? button('Reset to provider rules', () => openReset(), 'btn') : null;
    for (const b of [previewBtn, saveBtn, discardBtn, resetBtn, addBtn]) if (b) b.disabled = b.disabled || busy;
    const general = formErrors(errs);
    replace(
      body,
      h('ol', { className: 'rules', 'aria-label': 'Rules, tried in order' }, ...draft.map(ruleItem)),
      draft.length === 0 ? h('p', { className: 'muted small' }, 'No rules: every licensed user would be unmatched.') : null,
      general.length > 0 ? h('p', { className: 'field-error' }, general.map(([k, m]) => `${k}: ${m}`).join(' ')) : null,
      h('div', { className: 'form-actions rules-actions' }, addBtn, o.previewOn ?? null, previewBtn, saveBtn, discardBtn, resetBtn),
    );
  }

  function render(v: RulesView): void {
    view = v;
    replace(scopeNote, scopeText(v));
    if (!o.canEdit) {
      renderReadOnly(v);
      return;
    }
    draft = rulesDraft(v.rules);
    errs = {};
    renderEditor();
    markDirty();
  }

  function setBusy(b: boolean): void {
    busy = b;
    body.querySelectorAll<HTMLButtonElement>('.rules-actions button').forEach((x) => {
      x.disabled = b || (x.id === `${p}-add-rule` && draft.length >= MAX_RULES);
    });
  }

  /** Shows the server's field errors at their rows; the refusal box lists them too. */
  function showRefusal(e: unknown, prefix: string): void {
    const err = toApiError(e);
    errs = { ...err.fields };
    renderEditor();
    replace(msg, refusal(err, prefix, (f) => fieldLabel(f)));
    const first = body.querySelector<HTMLElement>('[aria-invalid="true"]');
    first?.focus();
  }

  /** "rules[1].criteria[0].pattern" → "Rule 2 (name), criterion 1, pattern". */
  function fieldLabel(f: string): string {
    const m = /^rules\[(\d+)\](?:\.([A-Za-z]+))?(?:\[(\d+)\](?:\.([A-Za-z]+))?)?$/.exec(f);
    if (!m) return f;
    const i = Number(m[1]);
    const name = draft[i]?.name ? ` (${draft[i]?.name})` : '';
    if (m[3] !== undefined) return `Rule ${i + 1}${name}, criterion ${Number(m[3]) + 1}${m[4] ? `, ${m[4]}` : ''}`;
    return `Rule ${i + 1}${name}${m[2] ? `, ${m[2]}` : ''}`;
  }

  function checkDraft(): boolean {
    errs = validateRules(draft);
    if (Object.keys(errs).length > 0) {
      renderEditor();
      replace(msg, h('div', { className: 'alert alert-error', role: 'alert' }, 'Check the rules marked below.'));
      body.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      return false;
    }
    return true;
  }

  async function doPreview(): Promise<void> {
    if (!o.preview || !checkDraft()) return;
    replace(msg);
    const input = rulesInput(draft);
    setBusy(true);
    replace(previewBox, h('p', { className: 'muted small' }, 'Counting…'));
    try {
      const [res, cur] = await Promise.all([o.preview(input, signal), Promise.resolve(o.current?.(signal) ?? null)]);
      if (signal.aborted) return;
      errs = {};
      previewed = JSON.stringify(input);
      renderPreview(res, cur);
    } catch (e) {
      if (signal.aborted) return;
      replace(previewBox);
      showRefusal(e, 'Cannot preview these rules');
    } finally {
      if (!signal.aborted) setBusy(false);
    }
  }

  function renderPreview(res: CurrentUsage, cur: Usage | null): void {
    const rows = cur ? compareUsage(cur, res.usage) : compareUsage(res.usage, res.usage);
    const headers = cur ? ['Factor', 'Current', 'Preview', 'Change'] : ['Factor', 'Preview'];
    replace(
      previewBox,
      h(
        'div',
        { className: 'preview-card', 'data-testid': 'preview' },
        h('h3', {}, 'Preview: the counts these rules would give'),
        h('p', { className: 'muted small' }, `${o.previewNote ? `${o.previewNote()} ` : ''}Nothing is saved. Counted ${formatDateTime(res.computedAt)} from the last sync.`),
        h('p', { className: 'alert alert-warn preview-stale', hidden: true }, 'The rules changed since this preview: press Preview again.'),
        h(
          'div',
          { className: 'table-wrap' },
          h(
            'table',
            { className: 'table table-preview', 'aria-label': 'Preview of the counts' },
            h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              ...rows.map((r) =>
                h(
                  'tr',
                  { 'data-rule-id': r.key, className: r.key === 'licensed' ? 'row-total' : '' },
                  h('th', { scope: 'row' }, r.name, r.enabledPreview === false ? h('span', { className: 'badge badge-disabled badge-inline' }, 'Off') : null, r.current === null && cur ? h('span', { className: 'badge badge-queued badge-inline' }, 'New') : null, r.preview === null ? h('span', { className: 'badge badge-removed badge-inline' }, 'Removed') : null),
                  ...(cur ? [h('td', { className: 'num', 'data-col': 'current' }, r.current === null ? '—' : formatCount(r.current))] : []),
                  h('td', { className: 'num', 'data-col': 'preview' }, r.preview === null ? '—' : formatCount(r.preview)),
                  ...(cur ? [h('td', { className: r.delta > 0 ? 'num delta-up' : r.delta < 0 ? 'num delta-down' : 'num muted', 'data-col': 'change' }, r.current === null || r.preview === null ? '—' : formatDelta(r.delta))] : []),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  async function doSave(): Promise<void> {
    const v = view;
    if (!v || !checkDraft()) return;
    replace(msg);
    setBusy(true);
    try {
      const saved = await saveFactorRules(app.api, o.customerId, rulesInput(draft), v.version);
      if (signal.aborted) return;
      replace(previewBox);
      previewed = null;
      render(saved);
      replace(msg, summaryBox({ level: 'ok', title: `Rules saved (version ${saved.version}).`, lines: o.customerId ? ['The counts below use them now; Refresh takes a snapshot with them.'] : ['Customers without rules of their own use them now.'] }));
      o.onChanged?.(saved);
    } catch (e) {
      if (signal.aborted) return;
      const err = toApiError(e);
      if (isStale(err)) {
        replace(msg, staleNotice('The rules were', () => void reload(true)));
      } else {
        showRefusal(err, 'The rules were not saved');
      }
    } finally {
      if (!signal.aborted) setBusy(false);
    }
  }

  function openReset(): void {
    const v = view;
    if (!v) return;
    const d = openDialog('Reset to the provider’s rules?', 'dialog-remove');
    const error = h('div', { className: 'dialog-error' });
    replace(d.body, h('p', {}, 'This customer’s own rules are deleted; it is counted with the provider’s rules again. Snapshots already taken keep their counts.'), error);
    const ok = h('button', { type: 'button', className: 'btn btn-danger' }, 'Reset to provider rules');
    ok.addEventListener('click', () => {
      ok.disabled = true;
      void (async () => {
        try {
          const res = await resetFactorRules(app.api, o.customerId, v.version);
          d.close();
          if (signal.aborted) return;
          replace(previewBox);
          previewed = null;
          render(res);
          replace(msg, summaryBox({ level: 'ok', title: 'The customer uses the provider’s rules again.', lines: [] }));
          o.onChanged?.(res);
        } catch (e) {
          const err = toApiError(e);
          if (isStale(err)) {
            d.close();
            replace(msg, staleNotice('The rules were', () => void reload(true)));
          } else {
            replace(error, refusal(err, 'The rules were not reset'));
            ok.disabled = false;
          }
        }
      })();
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), ok);
  }

  async function reload(reloaded = false): Promise<void> {
    try {
      const v = await getFactorRules(app.api, o.customerId, signal);
      if (signal.aborted) return;
      replace(previewBox);
      previewed = null;
      render(v);
      if (reloaded) replace(msg, h('div', { className: 'alert alert-info', role: 'status' }, 'Reloaded: these are the rules as saved now.'));
    } catch (e) {
      if (signal.aborted) return;
      replace(body, refusal(e, 'Cannot load the rules'));
    }
  }

  void reload();
  return { el, reload: () => reload() };
}
