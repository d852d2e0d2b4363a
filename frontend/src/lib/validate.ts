// Client-side validation that mirrors the server's. The server stays the authority: its
// errors are always shown as well.

import type { CreateCustomerRequest } from '../api/types';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reports whether s is a GUID in the 8-4-4-4-12 hex form Microsoft uses for tenant ids (no braces). */
export function isGuid(s: string): boolean {
  return GUID.test(s);
}

/** Field name → message. Empty when the input is valid. */
export type FieldErrors = Record<string, string>;

/** Trims the form values into a request body. */
export function normaliseCustomer(input: CreateCustomerRequest): CreateCustomerRequest {
  return {
    name: input.name.trim(),
    tenantId: input.tenantId.trim(),
    publicSector: input.publicSector,
  };
}

/** Validates an add-customer request as the server does: name required, tenant id a GUID. */
export function validateCustomer(input: CreateCustomerRequest): FieldErrors {
  const errs: FieldErrors = {};
  const name = input.name.trim();
  if (name === '') errs['name'] = 'Name is required.';
  else if (name.length > 200) errs['name'] = 'Name must be at most 200 characters.';
  const tenantId = input.tenantId.trim();
  if (tenantId === '') errs['tenantId'] = 'Microsoft tenant id is required.';
  else if (!isGuid(tenantId))
    errs['tenantId'] = 'Microsoft tenant id must be a GUID, e.g. 7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11.';
  return errs;
}

/** Parses the sign-in scope field: `*`, or comma- or space-separated customer ids. */
export function parseScope(s: string): string[] {
  const parts = s
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.includes('*')) return ['*'];
  return Array.from(new Set(parts));
}
