// What each role may do in the UI. The API enforces the same rules; this only hides
// controls that would be refused.

import type { Role } from './api/types';

/**
 * `customer:settings`: change a customer's settings (the sync interval). `licence:edit`: assign, change add-ons,
 * remove, reassign, offboard, apply a template. `template:edit`: create, change and delete templates.
 * `usage:refresh`: take a customer's usage snapshot now. `usage:rules` and `usage:pool`: change the licence factor
 * rules and the licence pool, the provider's business (how usage is counted and billed, what was bought); the
 * provider's own rules need every customer in scope too (canEditProviderRules). `bulk:apply`: upload a
 * mass-configuration file, start and cancel its job (anyone in scope may read the jobs). `export:read`: see the
 * month-end exports and download their files (those that name customers need every customer in scope too:
 * lib/exports canDownloadFile); `export:run`: export or re-run a month, which also needs every customer in scope
 * (canRunExports).
 */
export type Action =
  | 'customer:create'
  | 'customer:sync'
  | 'customer:settings'
  | 'licence:edit'
  | 'template:edit'
  | 'usage:refresh'
  | 'usage:rules'
  | 'usage:pool'
  | 'bulk:apply'
  | 'export:read'
  | 'export:run';

const allowed: Record<Role, ReadonlySet<Action>> = {
  'provider-admin': new Set<Action>([
    'customer:create',
    'customer:sync',
    'customer:settings',
    'licence:edit',
    'template:edit',
    'usage:refresh',
    'usage:rules',
    'usage:pool',
    'bulk:apply',
    'export:read',
    'export:run',
  ]),
  'customer-admin': new Set<Action>(['customer:sync', 'customer:settings', 'licence:edit', 'template:edit', 'usage:refresh', 'bulk:apply']),
  viewer: new Set<Action>(),
};

/** Reports whether role may perform action. Unknown roles may do nothing. */
export function can(role: string | undefined, action: Action): boolean {
  return role !== undefined && Object.prototype.hasOwnProperty.call(allowed, role)
    ? allowed[role as Role].has(action)
    : false;
}

/** Whether the signed-in user may change the provider's own factor rules: a provider admin who sees every customer. */
export function canEditProviderRules(me: { role?: string; scope?: readonly string[] } | null | undefined): boolean {
  return can(me?.role, 'usage:rules') && (me?.scope ?? []).includes('*');
}

/** Whether the signed-in user may export or re-run a month: a provider admin who sees every customer. */
export function canRunExports(me: { role?: string; scope?: readonly string[] } | null | undefined): boolean {
  return can(me?.role, 'export:run') && (me?.scope ?? []).includes('*');
}
