// Pure helpers of the Sites & settings tab: the settings form (checks as the server makes them), the site editor's
// draft with its ordered criteria (add, remove, move, change), the request bodies, and how a site reads in the list.

import type { Criterion, CriterionField, NumberType, Settings, SettingsUpdate, Site, SiteInput } from '../api/types';
import { numberTypeLabel, NUMBER_TYPES } from './numbers';

/** Defaults and bounds of the settings (domain.Settings). */
export const DEFAULT_STAGING_LIMIT_MINUTES = 24 * 60;
export const MIN_STAGING_LIMIT_MINUTES = 5;
export const MAX_STAGING_LIMIT_MINUTES = 14 * 24 * 60;
export const DEFAULT_QUARANTINE_DAYS = 30;
export const MAX_QUARANTINE_DAYS = 365;
/** Site limits (the server's too). */
export const SITE_NAME_MAX = 80;
export const MAX_CRITERIA = 50;
export const CRITERION_VALUE_MAX = 256;

/** The criterion fields in menu order, with labels and what a value looks like. */
export const CRITERION_FIELDS: ReadonlyArray<{ value: CriterionField; label: string; placeholder: string }> = [
  { value: 'usageLocation', label: 'Usage location', placeholder: 'GB' },
  { value: 'city', label: 'City', placeholder: 'London' },
  { value: 'department', label: 'Department', placeholder: 'Sales' },
  { value: 'office', label: 'Office', placeholder: 'London office' },
  { value: 'upnDomain', label: 'UPN domain', placeholder: 'contoso.com' },
  { value: 'group', label: 'Group (licence via group id)', placeholder: '00000000-0000-0000-0000-000000000000' },
];

/** The label of a criterion field; an unknown one as it is. */
export function criterionLabel(field: string): string {
  return CRITERION_FIELDS.find((f) => f.value === field)?.label.replace(/ \(.*\)$/, '') ?? field;
}

// -- Conflicts

/**
 * Whether a 409 means "stale: someone else saved since you read it" (the server marks it with a `version` field), as
 * opposed to a clash named by another field (a taken name, another default site) that the form should show there.
 */
export function isStaleConflict(e: { code: string; fields: Readonly<Record<string, string>>; message: string }): boolean {
  if (e.code !== 'conflict') return false;
  if (Object.prototype.hasOwnProperty.call(e.fields, 'version')) return true;
  return Object.keys(e.fields).length === 0 && /changed by someone else|reload|stale/i.test(e.message);
}

// -- Settings

/** The settings form: numbers as typed (strings), so that a half-typed value is not lost. */
export interface SettingsDraft {
  manageLicenses: boolean;
  allowStaging: boolean;
  defaultUsageLocation: string;
  stagingLimitMinutes: string;
  quarantineDays: string;
}

export function settingsDraft(s: Settings | null): SettingsDraft {
  return {
    manageLicenses: s?.manageLicenses ?? false,
    allowStaging: s?.allowStaging ?? false,
    defaultUsageLocation: s?.defaultUsageLocation ?? '',
    stagingLimitMinutes: String(s?.stagingLimitMinutes || DEFAULT_STAGING_LIMIT_MINUTES),
    quarantineDays: String(s?.quarantineDays ?? DEFAULT_QUARANTINE_DAYS),
  };
}

const INT = /^\d+$/;
const COUNTRY = /^[A-Za-z]{2}$/;

/** Why a usage location is not one ("" when it is, or when empty and allowed). */
export function usageLocationProblem(raw: string): string {
  const s = raw.trim();
  if (s === '' || COUNTRY.test(s)) return '';
  return 'Two letters (ISO 3166-1), e.g. GB or US.';
}

/** Field → message for what the server would refuse. */
export function validateSettings(d: SettingsDraft): Record<string, string> {
  const errs: Record<string, string> = {};
  const ul = usageLocationProblem(d.defaultUsageLocation);
  if (ul) errs['defaultUsageLocation'] = ul;
  const lim = d.stagingLimitMinutes.trim();
  if (!INT.test(lim) || Number(lim) < MIN_STAGING_LIMIT_MINUTES || Number(lim) > MAX_STAGING_LIMIT_MINUTES) {
    errs['stagingLimitMinutes'] = `Whole minutes, ${MIN_STAGING_LIMIT_MINUTES} to ${MAX_STAGING_LIMIT_MINUTES} (14 days).`;
  }
  const q = d.quarantineDays.trim();
  if (!INT.test(q) || Number(q) > MAX_QUARANTINE_DAYS) errs['quarantineDays'] = `Whole days, 0 to ${MAX_QUARANTINE_DAYS}.`;
  return errs;
}

/** The request body of a valid draft, based on `version`. */
export function settingsInput(d: SettingsDraft, version: number): SettingsUpdate {
  return {
    manageLicenses: d.manageLicenses,
    allowStaging: d.allowStaging,
    defaultUsageLocation: d.defaultUsageLocation.trim().toUpperCase(),
    stagingLimitMinutes: Number(d.stagingLimitMinutes.trim()),
    quarantineDays: Number(d.quarantineDays.trim()),
    version,
  };
}

/** A staging limit in words: "24 h", "90 min", "2 days". */
export function limitText(minutes: number): string {
  if (minutes % (24 * 60) === 0) {
    const d = minutes / (24 * 60);
    return d === 1 ? '24 h' : `${d} days`;
  }
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

/** What the two switches mean together. */
export function stagingSwitchText(s: Pick<Settings, 'manageLicenses' | 'allowStaging'>): string {
  if (s.manageLicenses && s.allowStaging) return 'Newly licensed users are staged and provisioned when they appear in Teams.';
  if (!s.manageLicenses && !s.allowStaging) return 'Staging is off: turn on Manage Licenses and Allow User Staging.';
  return s.manageLicenses ? 'Staging is off: turn on Allow User Staging.' : 'Staging is off: turn on Manage Licenses.';
}

// -- Criteria

/** A criterion row of the editor; `key` keeps DOM rows stable while rows move. */
export interface CriterionRow extends Criterion {
  key: number;
}

let rowKey = 0;

export function criterionRow(c: Partial<Criterion> = {}): CriterionRow {
  return { key: ++rowKey, field: c.field ?? 'usageLocation', value: c.value ?? '' };
}

/** Appends an empty row (of the last row's field, so a list of cities is quick to type). */
export function addCriterion(rows: readonly CriterionRow[]): CriterionRow[] {
  const last = rows[rows.length - 1];
  return [...rows, criterionRow({ field: last?.field ?? 'usageLocation' })];
}

export function removeCriterion(rows: readonly CriterionRow[], index: number): CriterionRow[] {
  return rows.filter((_, i) => i !== index);
}

/** Moves row `index` by `delta` (-1 up, +1 down); out of range leaves the rows as they are. */
export function moveCriterion(rows: readonly CriterionRow[], index: number, delta: number): CriterionRow[] {
  const to = index + delta;
  if (index < 0 || index >= rows.length || to < 0 || to >= rows.length) return [...rows];
  const out = [...rows];
  const [r] = out.splice(index, 1);
  out.splice(to, 0, r as CriterionRow);
  return out;
}

export function changeCriterion(rows: readonly CriterionRow[], index: number, patch: Partial<Criterion>): CriterionRow[] {
  return rows.map((r, i) => (i === index ? { ...r, ...patch } : r));
}

/** Field errors of the criteria, keyed as the server keys them: `criteria[2].value`. */
export function validateCriteria(rows: readonly { field: string; value: string }[]): Record<string, string> {
  const errs: Record<string, string> = {};
  if (rows.length > MAX_CRITERIA) errs['criteria'] = `At most ${MAX_CRITERIA} criteria.`;
  rows.forEach((r, i) => {
    if (!CRITERION_FIELDS.some((f) => f.value === r.field)) errs[`criteria[${i}].field`] = 'Choose what to match.';
    const v = r.value.trim();
    if (v === '') errs[`criteria[${i}].value`] = 'Enter a value, or remove the row.';
    else if (v.length > CRITERION_VALUE_MAX) errs[`criteria[${i}].value`] = `At most ${CRITERION_VALUE_MAX} characters.`;
    else if (r.field === 'upnDomain' && v.includes('@')) errs[`criteria[${i}].value`] = 'The domain only, without "@" (e.g. contoso.com).';
    else if (r.field === 'usageLocation' && !COUNTRY.test(v)) errs[`criteria[${i}].value`] = 'Two letters (ISO 3166-1), e.g. GB.';
  });
  return errs;
}

/** A criterion in words: `City is London`. */
export function criterionText(c: Criterion): string {
  return `${criterionLabel(c.field)} is ${c.value}`;
}

// -- Sites

/** The site editor's state. */
export interface SiteDraft {
  name: string;
  order: string;
  default: boolean;
  criteria: CriterionRow[];
  usageLocation: string;
  templateId: string;
  allowStaging: boolean;
  assignNumber: boolean;
  numberType: NumberType | '';
}

/** The draft of a site, or of a new one placed after `nextOrder`. */
export function siteDraft(s: Site | null, nextOrder = 1): SiteDraft {
  if (!s) {
    return {
      name: '',
      order: String(nextOrder),
      default: false,
      criteria: [],
      usageLocation: '',
      templateId: '',
      allowStaging: true,
      assignNumber: false,
      numberType: '',
    };
  }
  const t = s.numberPolicy?.type ?? '';
  return {
    name: s.name,
    order: String(s.order),
    default: s.default,
    criteria: (s.criteria ?? []).map((c) => criterionRow(c)),
    usageLocation: s.usageLocation ?? '',
    templateId: s.templateId ?? '',
    allowStaging: s.allowStaging,
    assignNumber: Boolean(s.numberPolicy?.assign),
    numberType: NUMBER_TYPES.some((x) => x.value === t) ? (t as NumberType) : '',
  };
}

/** The order a new site gets: after the last one. */
export function nextSiteOrder(sites: readonly Pick<Site, 'order'>[]): number {
  return sites.reduce((m, s) => Math.max(m, s.order), 0) + 1;
}

/** Field (JSON name) → message for what the server would refuse. */
export function validateSite(d: SiteDraft): Record<string, string> {
  const errs: Record<string, string> = {};
  const name = d.name.trim();
  if (name === '') errs['name'] = 'Name is required.';
  else if (name.length > SITE_NAME_MAX) errs['name'] = `Name must be at most ${SITE_NAME_MAX} characters.`;
  if (!/^-?\d+$/.test(d.order.trim())) errs['order'] = 'A whole number: sites are tried from the lowest.';
  const ul = usageLocationProblem(d.usageLocation);
  if (ul) errs['usageLocation'] = ul;
  Object.assign(errs, validateCriteria(d.criteria));
  return errs;
}

/** The request body of a valid draft: trimmed, criteria in the editor's order. */
export function siteInput(d: SiteDraft): SiteInput {
  return {
    name: d.name.trim(),
    order: Number(d.order.trim()),
    default: d.default,
    criteria: d.criteria.map((c) => ({ field: c.field, value: c.value.trim() })),
    usageLocation: d.usageLocation.trim().toUpperCase(),
    templateId: d.templateId,
    allowStaging: d.allowStaging,
    numberPolicy: { assign: d.assignNumber, type: d.assignNumber ? d.numberType : '' },
  };
}

/** Sites in the order placement tries them: by order, then name. */
export function sortSites<T extends Pick<Site, 'order' | 'name'>>(sites: readonly T[]): T[] {
  return [...sites].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

/** A site's number policy in words: "Assigns a Direct Routing number", "No number". */
export function numberPolicyText(p: Site['numberPolicy'] | null | undefined): string {
  if (!p?.assign) return 'No number';
  return p.type ? `Assigns a ${numberTypeLabel(p.type)} number` : 'Assigns a number of any type';
}

/** A site's criteria in words; the default site matches everyone no other site takes. */
export function criteriaText(s: Pick<Site, 'criteria' | 'default'>): string {
  const cs = s.criteria ?? [];
  const list = cs.map(criterionText).join(' or ');
  if (cs.length === 0) return s.default ? 'Everyone no other site takes' : 'No criteria: only users put here by hand';
  return s.default ? `${list}; and everyone no other site takes` : list;
}
