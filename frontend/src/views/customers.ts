// Customers: a server-side paged table and the "Add customer" form.

import { ApiError, toApiError } from '../api/client';
import type { CreateCustomerRequest, Customer } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { CursorPager } from '../lib/paging';
import { normaliseCustomer, validateCustomer, type FieldErrors } from '../lib/validate';
import { can } from '../permissions';
import { href } from '../router';
import { errorAlert, messageRow, pagerControls, syncSummary, table } from './common';

/** Rows per page of the customers table. */
export const CUSTOMERS_PAGE_SIZE = 25;

export function customersView({ app, root, signal }: ViewProps): void {
  const pager = new CursorPager();
  const headers = ['Name', 'Microsoft tenant id', 'Public sector', 'Sync'];
  const { el: tableEl, body } = table('Customers', headers);
  const listStatus = h('div');
  const controls = pagerControls('Customers', pager, (c) => void loadPage(c));

  const canCreate = can(app.me?.role, 'customer:create');
  replace(
    root,
    h(
      'div',
      { className: 'page-head' },
      h('h1', {}, 'Customers'),
      h('p', { className: 'muted' }, 'Microsoft 365 tenants this provider manages.'),
    ),
    canCreate ? addCustomerForm() : null,
    h('section', { className: 'card', 'aria-labelledby': 'customers-list-title' },
      h('h2', { id: 'customers-list-title', className: 'visually-hidden' }, 'Customer list'),
      listStatus,
      h('div', { className: 'table-wrap' }, tableEl),
      controls.el,
    ),
  );

  async function loadPage(cursor: string): Promise<void> {
    controls.update(true);
    replace(listStatus);
    if (body.rows.length === 0) replace(body, messageRow(headers.length, 'Loading…'));
    try {
      const page = await app.api.listCustomers(cursor, CUSTOMERS_PAGE_SIZE, signal);
      if (signal.aborted) return;
      pager.loaded(page.nextCursor);
      const items = page.items;
      replace(
        body,
        ...(items.length > 0
          ? items.map(customerRow)
          : [messageRow(headers.length, pager.pageNumber === 1 ? 'No customers yet.' : 'No more customers.')]),
      );
    } catch (e) {
      if (signal.aborted) return;
      replace(body);
      replace(listStatus, errorAlert(toApiError(e), 'Cannot load customers'));
    } finally {
      if (!signal.aborted) controls.update(false);
    }
  }

  function customerRow(c: Customer): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-customer-id': c.id },
      h('td', {}, h('a', { href: href({ name: 'customer', id: c.id }) }, c.name)),
      h('td', { className: 'mono' }, c.tenantId),
      h('td', {}, c.publicSector ? 'Yes' : 'No'),
      h('td', {}, syncSummary(c.sync)),
    );
  }

  function addCustomerForm(): HTMLElement {
    const fieldErr: Record<string, HTMLElement> = {};
    const input = (id: string, field: string, attrs: Record<string, string | boolean>): HTMLInputElement => {
      fieldErr[field] = h('p', { id: `${id}-error`, className: 'field-error', 'aria-live': 'polite' });
      return h('input', { id, name: field, 'aria-describedby': `${id}-error`, ...attrs });
    };
    const name = input('customer-name', 'name', { type: 'text', autocomplete: 'organization', required: true });
    const tenantId = input('customer-tenant', 'tenantId', {
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx',
      required: true,
      className: 'mono',
    });
    const publicSector = input('customer-public', 'publicSector', { type: 'checkbox' });
    const formStatus = h('div', { className: 'form-status' });
    const submit = h('button', { type: 'submit', className: 'btn btn-primary' }, 'Add customer');
    const inputs: Record<string, HTMLInputElement> = { name, tenantId, publicSector };

    const form = h(
      'form',
      { className: 'form form-inline', 'aria-labelledby': 'add-customer-title', novalidate: true },
      h(
        'div',
        { className: 'field' },
        h('label', { for: 'customer-name' }, 'Name'),
        name,
        fieldErr['name'],
      ),
      h(
        'div',
        { className: 'field field-grow' },
        h('label', { for: 'customer-tenant' }, 'Microsoft tenant id'),
        tenantId,
        fieldErr['tenantId'],
      ),
      h(
        'div',
        { className: 'field field-check' },
        publicSector,
        h('label', { for: 'customer-public' }, 'Public sector'),
        fieldErr['publicSector'],
      ),
      h('div', { className: 'field field-submit' }, submit),
    );

    const showErrors = (errs: FieldErrors, message: string | null, code?: string): void => {
      for (const [field, el] of Object.entries(fieldErr)) {
        const msg = errs[field];
        replace(el, msg ?? '');
        const inp = inputs[field];
        if (inp) {
          if (msg) inp.setAttribute('aria-invalid', 'true');
          else inp.removeAttribute('aria-invalid');
        }
      }
      // Fields the form does not have (e.g. "body") still need to be seen.
      const other = Object.entries(errs).filter(([f]) => !(f in fieldErr));
      replace(
        formStatus,
        message
          ? h(
              'div',
              { className: 'alert alert-error', role: 'alert', 'data-code': code },
              message,
              other.length > 0
                ? h('ul', {}, ...other.map(([f, m]) => h('li', {}, h('code', {}, f), `: ${m}`)))
                : null,
            )
          : null,
      );
    };

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const req: CreateCustomerRequest = normaliseCustomer({
        name: name.value,
        tenantId: tenantId.value,
        publicSector: publicSector.checked,
      });
      const errs = validateCustomer(req);
      if (Object.keys(errs).length > 0) {
        showErrors(errs, 'Check the highlighted fields.', 'invalid');
        const first = Object.keys(errs)[0];
        if (first) inputs[first]?.focus();
        return;
      }
      showErrors({}, null);
      submit.disabled = true;
      app.api
        .createCustomer(req)
        .then((c) => {
          form.reset();
          replace(
            formStatus,
            h(
              'div',
              { className: 'alert alert-success', role: 'status' },
              'Added ',
              h('a', { href: href({ name: 'customer', id: c.id }) }, c.name),
              '. Open it and press "Sync now" to read its licences.',
            ),
          );
          pager.reset();
          void loadPage('');
        })
        .catch((e: unknown) => {
          const err = toApiError(e);
          showErrors({ ...err.fields }, err.message, err.code);
          if (err instanceof ApiError && err.code !== 'network') {
            const first = Object.keys(err.fields).find((f) => f in inputs);
            if (first) inputs[first]?.focus();
          }
        })
        .finally(() => {
          submit.disabled = false;
        });
    });

    return h(
      'section',
      { className: 'card', 'aria-labelledby': 'add-customer-title' },
      h('h2', { id: 'add-customer-title' }, 'Add customer'),
      form,
      formStatus,
    );
  }

  void loadPage('');
}
