// Picking users of a customer by searching (display name or UPN prefix): one (assign a number) or several
// (onboarding). Used by the Numbers tab and the onboarding form.

import type { User } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { userName } from '../lib/licensing';
import { button, refusal } from './licenceActions';

/** Users shown per search. */
export const PICKER_SEARCH_LIMIT = 10;
const DEBOUNCE_MS = 250;

export interface UserPickerOptions {
  /** Id of the search input (its label says `label`). */
  id: string;
  label: string;
  /** Several users (chips with a remove button) or one (picking replaces it). */
  multiple: boolean;
  /** Most users that can be picked (multiple only). */
  max?: number;
  /** Called after every change of the selection. */
  onChange?: (users: User[]) => void;
  /** A line under a user in the results (e.g. "Unlicensed"). */
  note?: (u: User) => string;
  /** Users that cannot be picked, and why ("" = can). */
  refuse?: (u: User) => string;
}

export interface UserPicker {
  el: HTMLElement;
  selected(): User[];
  clear(): void;
  focus(): void;
}

let pickerSeq = 0;

/** A search box with results to pick from, and the picked users. */
export function userPicker({ app, signal }: Pick<ViewProps, 'app' | 'signal'>, customerId: string, o: UserPickerOptions): UserPicker {
  const picked = new Map<string, User>();
  const listId = `picker-${++pickerSeq}`;
  const search = h('input', {
    type: 'search',
    id: o.id,
    placeholder: 'Display name or UPN starts with…',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-controls': listId,
  });
  const results = h('div', { id: listId, className: 'picker-results', role: 'group', 'aria-label': 'Matching users' });
  const chosen = h('div', { className: 'picker-chosen', 'aria-live': 'polite' });
  let seq = 0;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let shown: User[] = [];

  const changed = (): void => {
    renderChosen();
    renderResults();
    o.onChange?.([...picked.values()]);
  };

  function renderChosen(): void {
    const users = [...picked.values()];
    if (users.length === 0) {
      replace(chosen, h('p', { className: 'muted small' }, o.multiple ? 'No user picked yet.' : 'No user picked.'));
      return;
    }
    replace(
      chosen,
      h(
        'ul',
        { className: 'picked', 'aria-label': o.multiple ? 'Picked users' : 'Picked user' },
        ...users.map((u) => {
          const x = button('×', () => {
            picked.delete(u.id);
            changed();
          }, 'btn btn-ghost btn-chip-x');
          x.setAttribute('aria-label', `Remove ${userName(u)}`);
          return h('li', { className: 'picked-user', 'data-user-id': u.id }, h('span', {}, userName(u)), h('span', { className: 'mono small muted' }, ` ${u.userPrincipalName}`), x);
        }),
      ),
    );
  }

  function renderResults(): void {
    if (shown.length === 0) return;
    const full = o.multiple && o.max !== undefined && picked.size >= o.max;
    replace(
      results,
      h(
        'ul',
        { className: 'user-picks' },
        ...shown.map((u) => {
          const why = o.refuse?.(u) ?? '';
          const on = picked.has(u.id);
          const b = button('', () => {
            if (picked.has(u.id)) picked.delete(u.id);
            else {
              if (!o.multiple) picked.clear();
              picked.set(u.id, u);
            }
            changed();
          }, 'user-pick');
          b.setAttribute('aria-pressed', String(on));
          b.setAttribute('data-user-id', u.id);
          b.disabled = why !== '' || (full && !on);
          const note = o.note?.(u) ?? '';
          replace(
            b,
            h('span', { className: 'user-pick-name' }, userName(u)),
            h('span', { className: 'mono small muted' }, u.userPrincipalName),
            note ? h('span', { className: 'small muted' }, note) : null,
            why ? h('span', { className: 'small text-error' }, why) : null,
          );
          return h('li', {}, b);
        }),
      ),
    );
  }

  async function find(): Promise<void> {
    const q = search.value.trim();
    const my = ++seq;
    if (q === '') {
      shown = [];
      replace(results, h('p', { className: 'muted small' }, 'Type the start of a name or UPN.'));
      return;
    }
    replace(results, h('p', { className: 'muted small' }, 'Searching…'));
    try {
      const page = await app.api.listUsers(customerId, { q, limit: PICKER_SEARCH_LIMIT }, signal);
      if (my !== seq || signal.aborted) return;
      shown = (page.items ?? []).filter((u) => u.status === 'active');
      if (shown.length === 0) replace(results, h('p', { className: 'muted small' }, 'No user matches.'));
      else renderResults();
    } catch (e) {
      if (my === seq && !signal.aborted) replace(results, refusal(e, 'Cannot search users'));
    }
  }

  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void find(), DEBOUNCE_MS);
  });
  search.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      clearTimeout(debounce);
      void find();
    }
  });
  signal.addEventListener('abort', () => clearTimeout(debounce), { once: true });

  replace(results, h('p', { className: 'muted small' }, 'Type the start of a name or UPN.'));
  renderChosen();

  const el = h('div', { className: 'user-picker' }, h('div', { className: 'field' }, h('label', { for: o.id }, o.label), search), results, chosen);
  return {
    el,
    selected: () => [...picked.values()],
    clear() {
      picked.clear();
      changed();
    },
    focus: () => search.focus(),
  };
}
