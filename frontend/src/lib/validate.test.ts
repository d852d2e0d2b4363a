import { describe, expect, it } from 'vitest';
import { isGuid, normaliseCustomer, parseScope, validateCustomer } from './validate';

describe('isGuid', () => {
  it.each([
    ['7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11', true],
    ['A1B2C3D4-5E6F-4A7B-8C9D-0E1F2A3B4C5D', true],
    ['00000000-0000-0000-0000-000000000000', true],
    ['', false],
    ['not-a-guid', false],
    ['7d3c7a6e1c2b4f7e9a512f3e8c9b0a11', false],
    ['{7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11}', false],
    ['7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a1', false],
    ['7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11 ', false],
    ['7d3c7a6g-1c2b-4f7e-9a51-2f3e8c9b0a11', false],
    ['7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11\n', false],
  ])('%j → %s', (s, want) => {
    expect(isGuid(s)).toBe(want);
  });
});

describe('validateCustomer', () => {
  it('accepts a valid customer', () => {
    expect(validateCustomer({ name: 'Contoso Dental', tenantId: '7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11', publicSector: false })).toEqual({});
  });
  it('requires a name and a GUID tenant id', () => {
    const errs = validateCustomer({ name: '   ', tenantId: 'nope', publicSector: false });
    expect(Object.keys(errs).sort()).toEqual(['name', 'tenantId']);
    expect(errs['tenantId']).toMatch(/GUID/);
  });
  it('requires a tenant id', () => {
    expect(validateCustomer({ name: 'x', tenantId: '', publicSector: true })['tenantId']).toMatch(/required/);
  });
  it('trims before validating and sending', () => {
    const req = normaliseCustomer({ name: ' Contoso ', tenantId: ' 7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11 ', publicSector: true });
    expect(req).toEqual({ name: 'Contoso', tenantId: '7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11', publicSector: true });
    expect(validateCustomer(req)).toEqual({});
  });
});

describe('parseScope', () => {
  it('parses * and lists', () => {
    expect(parseScope('*')).toEqual(['*']);
    expect(parseScope(' a, b ,,c a')).toEqual(['a', 'b', 'c']);
    expect(parseScope('a,*')).toEqual(['*']);
    expect(parseScope('  ')).toEqual([]);
  });
});
