// What each role may do in the UI. The API enforces the same rules; this only hides
// controls that would be refused.

import type { Role } from './api/types';

/**
 * `customer:settings`: change a customer's settings (the sync interval). `licence:edit`: assign, change add-ons,
 * remove, reassign, offboard, apply a template. `template:edit`: create, change and delete templates.
 */
export type Action = 'customer:create' | 'customer:sync' | 'customer:settings' | 'licence:edit' | 'template:edit';

const allowed: Record<Role, ReadonlySet<Action>> = {
  'provider-admin': new Set<Action>(['customer:create', 'customer:sync', 'customer:settings', 'licence:edit', 'template:edit']),
  'customer-admin': new Set<Action>(['customer:sync', 'customer:settings', 'licence:edit', 'template:edit']),
  viewer: new Set<Action>(),
};

/** Reports whether role may perform action. Unknown roles may do nothing. */
export function can(role: string | undefined, action: Action): boolean {
  return role !== undefined && Object.prototype.hasOwnProperty.call(allowed, role)
    ? allowed[role as Role].has(action)
    : false;
}
