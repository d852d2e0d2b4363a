import { describe, expect, it } from 'vitest';
import { can, canEditProviderRules, canRunExports } from './permissions';

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
  it('leaves factor rules and the pool to provider admins; admins refresh', () => {
    for (const a of ['usage:rules', 'usage:pool'] as const) {
      expect(can('provider-admin', a)).toBe(true);
      expect(can('customer-admin', a)).toBe(false);
      expect(can('viewer', a)).toBe(false);
    }
    expect(can('provider-admin', 'usage:refresh')).toBe(true);
    expect(can('customer-admin', 'usage:refresh')).toBe(true);
    expect(can('viewer', 'usage:refresh')).toBe(false);
  });
  it('lets admins upload, start and cancel bulk jobs, never viewers', () => {
    expect(can('provider-admin', 'bulk:apply')).toBe(true);
    expect(can('customer-admin', 'bulk:apply')).toBe(true);
    expect(can('viewer', 'bulk:apply')).toBe(false);
    expect(can(undefined, 'bulk:apply')).toBe(false);
  });
  it('lets only a provider admin who sees every customer change the provider’s rules', () => {
    expect(canEditProviderRules({ role: 'provider-admin', scope: ['*'] })).toBe(true);
    expect(canEditProviderRules({ role: 'provider-admin', scope: ['c1'] })).toBe(false);
    expect(canEditProviderRules({ role: 'customer-admin', scope: ['*'] })).toBe(false);
    expect(canEditProviderRules(null)).toBe(false);
  });
  it('leaves the exports to provider admins, and running them to those who see every customer', () => {
    for (const a of ['export:read', 'export:run'] as const) {
      expect(can('provider-admin', a)).toBe(true);
      expect(can('customer-admin', a)).toBe(false);
      expect(can('viewer', a)).toBe(false);
      expect(can(undefined, a)).toBe(false);
    }
    expect(canRunExports({ role: 'provider-admin', scope: ['*'] })).toBe(true);
    expect(canRunExports({ role: 'provider-admin', scope: ['c1'] })).toBe(false);
    expect(canRunExports({ role: 'customer-admin', scope: ['*'] })).toBe(false);
    expect(canRunExports({ role: 'viewer', scope: ['*'] })).toBe(false);
    expect(canRunExports(undefined)).toBe(false);
  });
});
