import { describe, expect, it } from 'vitest';
import { can } from './permissions';

describe('can', () => {
  it('hides writes from viewers', () => {
    expect(can('provider-admin', 'customer:create')).toBe(true);
    expect(can('provider-admin', 'customer:sync')).toBe(true);
    expect(can('customer-admin', 'customer:sync')).toBe(true);
    expect(can('customer-admin', 'customer:create')).toBe(false);
    expect(can('viewer', 'customer:sync')).toBe(false);
    expect(can('viewer', 'customer:create')).toBe(false);
    expect(can(undefined, 'customer:sync')).toBe(false);
    expect(can('constructor', 'customer:sync')).toBe(false);
  });
  it('lets admins change settings, not viewers', () => {
    expect(can('provider-admin', 'customer:settings')).toBe(true);
    expect(can('customer-admin', 'customer:settings')).toBe(true);
    expect(can('viewer', 'customer:settings')).toBe(false);
  });
  it('lets admins change licences and templates, never viewers', () => {
    for (const a of ['licence:edit', 'template:edit'] as const) {
      expect(can('provider-admin', a)).toBe(true);
      expect(can('customer-admin', a)).toBe(true);
      expect(can('viewer', a)).toBe(false);
      expect(can(undefined, a)).toBe(false);
    }
  });
});
