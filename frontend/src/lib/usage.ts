// Pure helpers of the Usage tab and the provider's rules editor: the factor rules editor's draft (ordered rules, each
// with ordered criteria: add, remove, move, change), its checks and request body, where a server field error belongs
// ("rules[1].criteria[0].pattern" → rule 1, criterion 0), the current-vs-preview comparison of the counts, the per-site
// breakdown, the licence pool form, and rules and SKUs in words.

import type {
  CurrentUsage,
  FactorCriterion,
  FactorField,
  FactorRule,
  FactorRuleInput,
  LicencePool,
  LicencePoolUpdate,
  ManagedBy,
  SnapshotSku,
  Usage,
} from '../api/usage';
import { UNMATCHED } from '../api/usage';

/** Limits of the rules (the server's too: usage.Compile and the OpenAPI document). */
export const MAX_RULES = 50;
export const MAX_RULE_CRITERIA = 20;
export const RULE_NAME_MAX = 80;
export const PATTERN_MAX = 500;

/** The criterion fields in menu order (domain.FactorFields), with labels and an example pattern. */
export const FACTOR_FIELDS: ReadonlyArray<{ value: FactorField; label: string; placeholder: string }> = [
  { value: 'userPrincipalName', label: 'User principal name', placeholder: '.*@contoso\\.com' },
  { value: 'displayName', label: 'Display name', placeholder: 'Reception.*' },
  { value: 'mail', label: 'Mail', placeholder: '.*@contoso\\.com' },
  { value: 'department', label: 'Department', placeholder: 'Sales|Support' },
  { value: 'city', label: 'City', placeholder: 'London' },
  { value: 'office', label: 'Office', placeholder: 'HQ.*' },
  { value: 'usageLocation', label: 'Usage location', placeholder: 'GB|IE' },
  { value: 'country', label: 'Country', placeholder: 'United Kingdom' },
  { value: 'sku', label: 'Licence (SKU part number)', placeholder: 'MCOEV|SPE_E5' },
  { value: 'group', label: 'Licence group (id)', placeholder: '00000000-0000-0000-0000-000000000000' },
  { value: 'numberType', label: 'Number type', placeholder: 'directRouting|operatorConnect' },
  { value: 'number', label: 'Number', placeholder: '+4420.*' },
  { value: 'extension', label: 'Extension', placeholder: '1\\d{3}' },
  { value: 'site', label: 'Site (id)', placeholder: 'london' },
  { value: 'accountType', label: 'Account type', placeholder: 'user' },
  { value: 'accountEnabled', label: 'Account enabled', placeholder: 'true' },
];

/** The label of a criterion field; an unknown one as it is. */
export function factorFieldLabel(field: string): string {
  return FACTOR_FIELDS.find((f) => f.value === field)?.label ?? field;
}

/** The managed-by choices, in menu order. */
export const MANAGED_BY: ReadonlyArray<{ value: ManagedBy; label: string }> = [
  { value: '', label: 'Any way' },
  { value: 'template', label: 'By template' },
  { value: 'ui', label: 'By hand (user interface)' },
  { value: 'none', label: 'Never by Seatwise' },
];

export function managedByLabel(m: string): string {
  return MANAGED_BY.find((x) => x.value === m)?.label ?? m;
}

// -- The rules editor's draft

export interface CriterionDraft {
  key: number;
  field: FactorField;
  pattern: string;
}

export interface RuleDraft {
  /** Keeps DOM rows stable while rules move. */
  key: number;
  /** The saved rule's id; "" for a new rule (the server gives it one from its name). */
  id: string;
  name: string;
  enabled: boolean;
  managedBy: ManagedBy;
  criteria: CriterionDraft[];
}

let keySeq = 0;

export function criterionDraft(c: Partial<FactorCriterion> = {}): CriterionDraft {
  return { key: ++keySeq, field: c.field ?? 'department', pattern: c.pattern ?? '' };
}

export function ruleDraft(r: Partial<FactorRule> = {}): RuleDraft {
  return {
    key: ++keySeq,
    id: r.id ?? '',
    name: r.name ?? '',
    enabled: r.enabled ?? true,
    managedBy: r.managedBy ?? '',
    criteria: (r.criteria ?? []).map((c) => criterionDraft(c)),
  };
}

export function rulesDraft(rules: readonly FactorRule[]): RuleDraft[] {
  return rules.map((r) => ruleDraft(r));
}

/** Moves item `index` by `delta` (-1 up, +1 down); out of range leaves the list as it is. */
export function move<T>(list: readonly T[], index: number, delta: number): T[] {
  const to = index + delta;
  if (index < 0 || index >= list.length || to < 0 || to >= list.length) return [...list];
  const out = [...list];
  const [x] = out.splice(index, 1);
  out.splice(to, 0, x as T);
  return out;
}

/** Appends a new rule (enabled, named "New rule", "New rule 2"… so that names stay unique). */
export function addRule(rules: readonly RuleDraft[], at = rules.length): RuleDraft[] {
  const taken = new Set(rules.map((r) => r.name.trim().toLowerCase()));
  let name = 'New rule';
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `New rule ${n}`;
  const out = [...rules];
  out.splice(Math.max(0, Math.min(at, rules.length)), 0, ruleDraft({ name, criteria: [{ field: 'department', pattern: '' }] }));
  return out;
}

export function removeRule(rules: readonly RuleDraft[], index: number): RuleDraft[] {
  return rules.filter((_, i) => i !== index);
}

export function changeRule(rules: readonly RuleDraft[], index: number, patch: Partial<Omit<RuleDraft, 'key' | 'criteria'>>): RuleDraft[] {
  return rules.map((r, i) => (i === index ? { ...r, ...patch } : r));
}

/** Adds a criterion to rule `index` (of its last criterion's field). */
export function addRuleCriterion(rules: readonly RuleDraft[], index: number): RuleDraft[] {
  return rules.map((r, i) => (i === index ? { ...r, criteria: [...r.criteria, criterionDraft({ field: r.criteria[r.criteria.length - 1]?.field ?? 'department' })] } : r));
}

export function removeRuleCriterion(rules: readonly RuleDraft[], index: number, ci: number): RuleDraft[] {
  return rules.map((r, i) => (i === index ? { ...r, criteria: r.criteria.filter((_, j) => j !== ci) } : r));
}

export function changeRuleCriterion(rules: readonly RuleDraft[], index: number, ci: number, patch: Partial<Omit<CriterionDraft, 'key'>>): RuleDraft[] {
  return rules.map((r, i) => (i === index ? { ...r, criteria: r.criteria.map((c, j) => (j === ci ? { ...c, ...patch } : c)) } : r));
}

/** The request body's rules: names trimmed, a new rule without id; patterns as typed (spaces may matter). */
export function rulesInput(rules: readonly RuleDraft[]): (FactorRuleInput & { criteria: FactorCriterion[] })[] {
  return rules.map((r) => ({
    ...(r.id ? { id: r.id } : {}),
    name: r.name.trim(),
    enabled: r.enabled,
    managedBy: r.managedBy,
    criteria: r.criteria.map((c) => ({ field: c.field, pattern: c.pattern })),
  }));
}

/** Whether the draft differs from the saved rules (what Save would change). */
export function rulesChanged(draft: readonly RuleDraft[], saved: readonly FactorRule[]): boolean {
  const a = rulesInput(draft);
  if (a.length !== saved.length) return true;
  return a.some((r, i) => {
    const s = saved[i] as FactorRule;
    return (
      (r.id ?? '') !== s.id ||
      r.name !== s.name ||
      r.enabled !== s.enabled ||
      r.managedBy !== (s.managedBy ?? '') ||
      r.criteria.length !== (s.criteria ?? []).length ||
      r.criteria.some((c, j) => c.field !== s.criteria[j]?.field || c.pattern !== s.criteria[j]?.pattern)
    );
  });
}

/**
 * What the server would refuse that can be told without it, keyed as the server keys it ("rules[0].name"). Patterns
 * are left to the server: it checks them as Go regular expressions (RE2), which JavaScript's differ from.
 */
export function validateRules(rules: readonly RuleDraft[]): Record<string, string> {
  const errs: Record<string, string> = {};
  if (rules.length > MAX_RULES) errs['rules'] = `At most ${MAX_RULES} rules.`;
  const names = new Map<string, number>();
  rules.forEach((r, i) => {
    const name = r.name.trim();
    if (name === '') errs[`rules[${i}].name`] = 'Name is required.';
    else if (name.length > RULE_NAME_MAX) errs[`rules[${i}].name`] = `At most ${RULE_NAME_MAX} characters.`;
    else {
      const k = name.toLowerCase();
      const first = names.get(k);
      if (first !== undefined) errs[`rules[${i}].name`] = `Rule ${first + 1} has this name already.`;
      else names.set(k, i);
    }
    if (r.criteria.length > MAX_RULE_CRITERIA) errs[`rules[${i}].criteria`] = `At most ${MAX_RULE_CRITERIA} criteria.`;
    r.criteria.forEach((c, j) => {
      if (c.pattern.length > PATTERN_MAX) errs[`rules[${i}].criteria[${j}].pattern`] = `At most ${PATTERN_MAX} characters.`;
    });
  });
  return errs;
}

/** Where a field error belongs in the editor. */
export type ErrorPlace =
  | { at: 'rule'; rule: number; field: string }
  | { at: 'criterion'; rule: number; criterion: number; field: string }
  | { at: 'form'; field: string };

const RULE_FIELD = /^rules\[(\d+)\](?:\.([A-Za-z]+))?(?:\[(\d+)\](?:\.([A-Za-z]+))?)?$/;

/** Places a server field key: "rules[2].criteria[0].pattern" → rule 2, criterion 0, "pattern"; anything else: the form. */
export function errorPlace(key: string): ErrorPlace {
  const m = RULE_FIELD.exec(key);
  if (!m) return { at: 'form', field: key };
  const rule = Number(m[1]);
  if (m[2] === 'criteria' && m[3] !== undefined) return { at: 'criterion', rule, criterion: Number(m[3]), field: m[4] ?? '' };
  return { at: 'rule', rule, field: m[2] ?? '' };
}

/** The messages of one rule (its own fields, e.g. name, managedBy, criteria count), joined. */
export function ruleErrors(errs: Readonly<Record<string, string>>, rule: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(errs)) {
    const p = errorPlace(k);
    if (p.at === 'rule' && p.rule === rule) out[p.field || 'rule'] = v;
  }
  return out;
}

/** The messages of one criterion: of its field, of its pattern (or of the criterion as a whole), and both joined. */
export function criterionErrors(errs: Readonly<Record<string, string>>, rule: number, criterion: number): { field: string; pattern: string; message: string } {
  let field = '';
  const pattern: string[] = [];
  for (const [k, v] of Object.entries(errs)) {
    const p = errorPlace(k);
    if (p.at !== 'criterion' || p.rule !== rule || p.criterion !== criterion) continue;
    if (p.field === 'field') field = v;
    else pattern.push(v);
  }
  const message = [field ? `Field: ${field}` : '', ...pattern].filter((m) => m !== '').join(' ');
  return { field, pattern: pattern.join(' '), message };
}

/** The messages that belong to no rule (e.g. "rules", "version"). */
export function formErrors(errs: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(errs).filter(([k]) => errorPlace(k).at === 'form');
}

/**
 * Whether a 409 means "stale: someone else saved since you read it" (not a clash named by another field).
 */
export function isStale(e: { code: string; fields: Readonly<Record<string, string>> }): boolean {
  return e.code === 'conflict' && Object.keys(e.fields).every((k) => k === 'version');
}

// -- Rules in words

/** A criterion in words: "Department matches Sales|Support" ("is empty" for an empty pattern). */
export function criterionText(c: FactorCriterion): string {
  return c.pattern === '' ? `${factorFieldLabel(c.field)} is empty` : `${factorFieldLabel(c.field)} matches ${c.pattern}`;
}

/** A rule's conditions in words: "Account type matches user and Number type matches directRouting; managed by template". */
export function ruleText(r: Pick<FactorRule, 'criteria' | 'managedBy'>): string {
  const parts = (r.criteria ?? []).map(criterionText);
  if (r.managedBy) parts.push(`licences managed ${managedByLabel(r.managedBy).toLowerCase()}`);
  return parts.length > 0 ? parts.join(' and ') : 'Every licensed user (catch-all)';
}

// -- Counts

export interface CountRow {
  /** The rule id, or UNMATCHED. */
  key: string;
  name: string;
  enabled: boolean;
  count: number;
  /** Share of the licensed users, 0–100 (rounded to one decimal). */
  share: number;
}

const share = (n: number, of: number): number => (of > 0 ? Math.round((n / of) * 1000) / 10 : 0);

/** The factor counts in rule order, then Unmatched, each with its share of Licensed. */
export function countRows(u: Usage): CountRow[] {
  const rows: CountRow[] = (u.factors ?? []).map((f) => ({ key: f.ruleId, name: f.name, enabled: f.enabled, count: f.count, share: share(f.count, u.licensed) }));
  rows.push({ key: UNMATCHED, name: 'Unmatched', enabled: true, count: u.unmatched, share: share(u.unmatched, u.licensed) });
  return rows;
}

export interface CompareRow {
  key: string;
  name: string;
  /** null: the rule is not in that list (added or removed by the draft). */
  current: number | null;
  preview: number | null;
  /** preview − current (0 when either is missing). */
  delta: number;
  enabledNow: boolean | null;
  enabledPreview: boolean | null;
}

/**
 * The current counts next to the preview's: the preview's rules in their order (matched to the current ones by
 * rule id, else by name, ignoring case), then the current rules the preview drops, then Unmatched and Licensed.
 */
export function compareUsage(current: Usage, preview: Usage): CompareRow[] {
  const cur = current.factors ?? [];
  const used = new Set<number>();
  const rows: CompareRow[] = [];
  for (const p of preview.factors ?? []) {
    let i = cur.findIndex((c, j) => !used.has(j) && c.ruleId !== '' && c.ruleId === p.ruleId);
    if (i < 0) i = cur.findIndex((c, j) => !used.has(j) && c.name.trim().toLowerCase() === p.name.trim().toLowerCase());
    const c = i >= 0 ? cur[i] : undefined;
    if (i >= 0) used.add(i);
    rows.push({
      key: p.ruleId || p.name,
      name: p.name,
      current: c ? c.count : null,
      preview: p.count,
      delta: c ? p.count - c.count : 0,
      enabledNow: c ? c.enabled : null,
      enabledPreview: p.enabled,
    });
  }
  cur.forEach((c, i) => {
    if (!used.has(i)) rows.push({ key: c.ruleId, name: c.name, current: c.count, preview: null, delta: 0, enabledNow: c.enabled, enabledPreview: null });
  });
  rows.push({ key: UNMATCHED, name: 'Unmatched', current: current.unmatched, preview: preview.unmatched, delta: preview.unmatched - current.unmatched, enabledNow: true, enabledPreview: true });
  rows.push({ key: 'licensed', name: 'Licensed', current: current.licensed, preview: preview.licensed, delta: preview.licensed - current.licensed, enabledNow: true, enabledPreview: true });
  return rows;
}

/** A change as "+3", "−2" or "0". */
export function formatDelta(n: number): string {
  if (n > 0) return `+${n.toLocaleString('en-US')}`;
  if (n < 0) return `−${Math.abs(n).toLocaleString('en-US')}`;
  return '0';
}

/** The per-site table: the factor columns (the customer's rules, in order) and one row per site. */
export function siteTable(cur: CurrentUsage): { columns: { key: string; name: string }[]; rows: { siteId: string; siteName: string; users: number; licensed: number; unmatched: number; counts: number[] }[] } {
  const columns = (cur.usage.factors ?? []).map((f) => ({ key: f.ruleId, name: f.name }));
  const rows = (cur.sites ?? []).map((s) => {
    const by = new Map((s.usage.factors ?? []).map((f) => [f.ruleId, f.count]));
    return { siteId: s.siteId, siteName: s.siteName || s.siteId, users: s.users, licensed: s.usage.licensed, unmatched: s.usage.unmatched, counts: columns.map((c) => by.get(c.key) ?? 0) };
  });
  return { columns, rows };
}

// -- SKUs and the pool

/** Graph's available seats of a SKU: prepaid (enabled) − consumed; negative when overused. */
export function availableSeats(k: Pick<SnapshotSku, 'enabled' | 'consumed'>): number {
  return (k.enabled || 0) - (k.consumed || 0);
}

/** SKUs sorted by name (then part number). */
export function sortSkus<T extends Pick<SnapshotSku, 'name' | 'partNumber'>>(skus: readonly T[]): T[] {
  return [...skus].sort((a, b) => (a.name || a.partNumber).localeCompare(b.name || b.partNumber) || a.partNumber.localeCompare(b.partNumber));
}

/** The pool form: seats as typed ("" = not entered), per skuId in lower case. */
export interface PoolDraft {
  acquired: Record<string, string>;
  unusedThreshold: string;
  unusedDays: string;
}

export const MAX_ACQUIRED = 10_000_000;
export const MAX_UNUSED_THRESHOLD = 1_000_000;
export const MAX_UNUSED_DAYS = 90;

export function poolDraft(p: LicencePool): PoolDraft {
  const acquired: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.acquired ?? {})) acquired[k.toLowerCase()] = String(v);
  return { acquired, unusedThreshold: String(p.unusedThreshold), unusedDays: String(p.unusedDays) };
}

const INT = /^\d+$/;

/** Field errors, keyed as the server keys them ("acquired.<skuId>", "unusedThreshold", "unusedDays"). */
export function validatePool(d: PoolDraft): Record<string, string> {
  const errs: Record<string, string> = {};
  for (const [k, raw] of Object.entries(d.acquired)) {
    const v = raw.trim();
    if (v !== '' && (!INT.test(v) || Number(v) > MAX_ACQUIRED)) errs[`acquired.${k}`] = `Whole seats, 0 to ${MAX_ACQUIRED.toLocaleString('en-US')}; empty = not entered.`;
  }
  const t = d.unusedThreshold.trim();
  if (!INT.test(t) || Number(t) < 1 || Number(t) > MAX_UNUSED_THRESHOLD) errs['unusedThreshold'] = `Whole seats, 1 to ${MAX_UNUSED_THRESHOLD.toLocaleString('en-US')}.`;
  const days = d.unusedDays.trim();
  if (!INT.test(days) || Number(days) < 1 || Number(days) > MAX_UNUSED_DAYS) errs['unusedDays'] = `Whole days, 1 to ${MAX_UNUSED_DAYS}.`;
  return errs;
}

/** The request body of a valid draft (SKUs left empty are not entered). */
export function poolInput(d: PoolDraft, version: number): LicencePoolUpdate {
  const acquired: Record<string, number> = {};
  for (const [k, raw] of Object.entries(d.acquired)) if (raw.trim() !== '') acquired[k] = Number(raw.trim());
  return { acquired, unusedThreshold: Number(d.unusedThreshold.trim()), unusedDays: Number(d.unusedDays.trim()), version };
}

/** The acquired seats entered for a SKU (by skuId, any letter case), or null. */
export function acquiredOf(pool: Pick<LicencePool, 'acquired'> | null, skuId: string): number | null {
  if (!pool) return null;
  const want = skuId.toLowerCase();
  for (const [k, v] of Object.entries(pool.acquired ?? {})) if (k.toLowerCase() === want) return v;
  return null;
}
