// Pure helpers of the template editor: the form's draft, the request body it becomes, and the checks the server
// makes too (the server stays the authority; its field errors are shown as well).

import type { TemplateInput } from '../api/types';
import type { AddonToggles } from './licensing';

/** Longest template name the editor accepts. */
export const TEMPLATE_NAME_MAX = 100;

/** The editor's state: name, description, and the included licences with their add-on toggles (by skuId). */
export interface TemplateDraft {
  name: string;
  description: string;
  licences: Readonly<Record<string, AddonToggles>>;
}

/** The draft of an existing template (`Template`: its disabled plans off, every other plan on), or an empty one. */
export function templateDraft(t: { name: string; description?: string; licences: readonly { skuId: string; disabledPlans?: readonly string[] }[] } | null): TemplateDraft {
  if (!t) return { name: '', description: '', licences: {} };
  const licences: Record<string, AddonToggles> = {};
  for (const l of t.licences ?? []) licences[l.skuId] = Object.fromEntries((l.disabledPlans ?? []).map((id) => [id, false]));
  return { name: t.name, description: t.description ?? '', licences };
}

/** The request body of a draft: trimmed texts, licences by skuId with their disabled plans, both sorted. */
export function templateInput(d: TemplateDraft): TemplateInput {
  return {
    name: d.name.trim(),
    description: d.description.trim(),
    licences: Object.keys(d.licences)
      .sort()
      .map((skuId) => ({
        skuId,
        disabledPlans: Object.entries(d.licences[skuId] ?? {})
          .filter(([, on]) => on === false)
          .map(([id]) => id)
          .sort(),
      })),
  };
}

/** Field → message for what the server would refuse: no name, a name too long, no licence. */
export function validateTemplate(d: TemplateDraft): Record<string, string> {
  const errs: Record<string, string> = {};
  const name = d.name.trim();
  if (name === '') errs['name'] = 'Name is required.';
  else if (name.length > TEMPLATE_NAME_MAX) errs['name'] = `Name must be at most ${TEMPLATE_NAME_MAX} characters.`;
  if (Object.keys(d.licences).length === 0) errs['licences'] = 'Choose at least one licence.';
  return errs;
}
