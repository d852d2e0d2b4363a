import { describe, expect, it } from 'vitest';
import { templateDraft, templateInput, validateTemplate, TEMPLATE_NAME_MAX } from './templates';

describe('template drafts', () => {
  it('starts empty, and reads a template (its disabled plans off)', () => {
    expect(templateDraft(null)).toEqual({ name: '', description: '', licences: {} });
    const d = templateDraft({ name: 'Front desk', description: 'd', licences: [{ skuId: 'k1', disabledPlans: ['p2', 'p1'] }, { skuId: 'k2' }] });
    expect(d).toEqual({ name: 'Front desk', description: 'd', licences: { k1: { p2: false, p1: false }, k2: {} } });
  });
  it('round-trips into a request body: trimmed, licences and disabled plans sorted', () => {
    const body = templateInput({ name: '  Front desk ', description: ' x ', licences: { k2: { p1: true, p9: false }, k1: { b: false, a: false } } });
    expect(body).toEqual({ name: 'Front desk', description: 'x', licences: [{ skuId: 'k1', disabledPlans: ['a', 'b'] }, { skuId: 'k2', disabledPlans: ['p9'] }] });
    expect(templateInput(templateDraft({ name: 'n', description: '', licences: [{ skuId: 'k', disabledPlans: ['p'] }] }))).toEqual({
      name: 'n', description: '', licences: [{ skuId: 'k', disabledPlans: ['p'] }],
    });
  });
  it('checks the name and that there is a licence', () => {
    expect(validateTemplate({ name: ' ', description: '', licences: {} })).toEqual({ name: 'Name is required.', licences: 'Choose at least one licence.' });
    expect(validateTemplate({ name: 'x'.repeat(TEMPLATE_NAME_MAX + 1), description: '', licences: { k: {} } })).toEqual({ name: `Name must be at most ${TEMPLATE_NAME_MAX} characters.` });
    expect(validateTemplate({ name: 'ok', description: '', licences: { k: {} } })).toEqual({});
  });
});
