// Pure wording of audit records: the action, and what changed (before → after) in terms people read — licences by
// name with the add-ons they have off, fields of an object that changed — rather than raw JSON.

/** Names the audit view knows: SKU id → name, service plan id → friendly name. */
export interface Names {
  sku: ReadonlyMap<string, string>;
  plan: ReadonlyMap<string, string>;
}

export const NO_NAMES: Names = { sku: new Map(), plan: new Map() };

const ACTIONS: Readonly<Record<string, string>> = {
  'licence.assign': 'Assign licence',
  'licence.addons': 'Change add-ons',
  'licence.remove': 'Remove licence',
  'licence.reassign': 'Reassign licence',
  'licence.reassign.assign': 'Reassign: give to new holder',
  'licence.reassign.remove': 'Reassign: take from old holder',
  'licence.reassign.restore': 'Reassign: give back to old holder',
  'licence.reassign.undo': 'Reassign: take back from new holder',
  'licence.offboard': 'Offboard',
  'template.create': 'Create template',
  'template.update': 'Edit template',
  'template.delete': 'Delete template',
  'template.assign': 'Assign template',
  'customer.create': 'Add customer',
  'customer.update': 'Change settings',
  'customer.sync': 'Sync',
};

/** The label of an action: a known one, else the code in words (`licence.assign` → `Licence assign`). */
export function actionLabel(action: string): string {
  if (Object.prototype.hasOwnProperty.call(ACTIONS, action)) return ACTIONS[action] as string;
  const words = action.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[._:/-]+/g, ' ').trim().toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : '—';
}

interface LicenceLike {
  skuId: string;
  /** The SKU's name as the record has it. */
  name?: string;
  disabledPlans?: string[] | null;
  /** false for a licence held only via groups (absent = direct). */
  direct?: boolean;
  groups?: string[] | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isLicence(v: unknown): v is LicenceLike {
  return isObject(v) && typeof v['skuId'] === 'string' && (v['disabledPlans'] === undefined || v['disabledPlans'] === null || Array.isArray(v['disabledPlans']));
}

function isLicenceList(v: unknown): v is LicenceLike[] {
  return Array.isArray(v) && v.every(isLicence);
}

/** A licence in words: its name, with the add-ons it has off. */
export function licenceText(l: LicenceLike, names: Names): string {
  const name = names.sku.get(l.skuId.toLowerCase()) || l.name || l.skuId;
  const off = (l.disabledPlans ?? []).map((p) => names.plan.get(p.toLowerCase()) ?? p);
  const notes: string[] = [];
  if (off.length > 0) notes.push(`off: ${off.join(', ')}`);
  if (l.direct === false) notes.push('via group');
  return notes.length > 0 ? `${name} (${notes.join('; ')})` : name;
}

/** Licences in words, sorted; `none` when empty. */
export function licencesText(ls: readonly LicenceLike[], names: Names): string {
  if (ls.length === 0) return 'none';
  return ls.map((l) => licenceText(l, names)).sort((a, b) => a.localeCompare(b)).join(', ');
}

/** Any recorded value in words: licence lists by name, scalars as they are, the rest as compact JSON. */
export function valueText(v: unknown, names: Names): string {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'string') return v === '' ? '""' : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isLicenceList(v)) return licencesText(v, names);
  if (isLicence(v)) return licenceText(v, names);
  if (isObject(v) && isLicenceList(v['licences'])) {
    const rest = Object.entries(v).filter(([k]) => !HIDDEN_KEYS.has(k) && k !== 'licences' && !k.endsWith('At'));
    const head = rest.map(([k, x]) => `${k}: ${valueText(x, names)}`).join('; ');
    return `${head ? `${head}; ` : ''}licences: ${licencesText(v['licences'], names)}`;
  }
  return JSON.stringify(v);
}

/** Keys of a recorded object that say nothing to people. */
const HIDDEN_KEYS: ReadonlySet<string> = new Set(['id', 'customerId', 'version']);

/** One line of a change: what, before, after; or `text` alone (what was asked). */
export interface ChangeLine {
  label: string;
  before: string;
  after: string;
  text?: string;
}

/**
 * Whether a recorded value is a user's licences: `{licences}`, with what was asked (`requested` of a single change,
 * `change` of a many-user one) and where it came from (`source`, e.g. a template).
 */
function isLicenceState(v: unknown): boolean {
  return (
    isObject(v) &&
    Object.keys(v).every((k) => (k === 'licences' && isLicenceList(v[k])) || ((k === 'requested' || k === 'change') && isObject(v[k])) || k === 'source')
  );
}

/** A list of licences to remove: licence objects, or SKU ids. */
function removals(v: unknown): LicenceLike[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((x): LicenceLike[] => (typeof x === 'string' ? [{ skuId: x }] : isLicence(x) ? [{ skuId: x.skuId, ...(x.name ? { name: x.name } : {}) }] : []));
}

/** Where a change came from, in words: `template Front desk`, or the value. */
function sourceText(v: unknown, names: Names): string {
  if (isObject(v) && typeof v['name'] === 'string' && 'templateId' in v) return `template ${v['name']}`;
  return valueText(v, names);
}

/**
 * A licence change record: before `{licences}`, after `{requested: {add, remove}, licences?}` (no licences: the
 * change was not made) or `{licences}` (a template assignment).
 */
function licenceChange(before: unknown, after: unknown, names: Names): ChangeLine[] | null {
  if (!(isLicenceState(before) || isLicenceState(after)) || (before != null && !isLicenceState(before)) || (after != null && !isLicenceState(after))) return null;
  const b = isObject(before) && isLicenceList(before['licences']) ? before['licences'] : null;
  const req = isObject(after) ? (isObject(after['requested']) ? after['requested'] : isObject(after['change']) ? after['change'] : null) : null;
  const lines: ChangeLine[] = [];
  if (isObject(after) && after['source'] !== undefined) lines.push({ label: 'from', before: '', after: '', text: sourceText(after['source'], names) });
  if (req) {
    const parts: string[] = [];
    if (isLicenceList(req['add']) && req['add'].length > 0) parts.push(`add ${req['add'].map((l) => licenceText(l, names)).join(', ')}`);
    const rm = removals(req['remove']);
    if (rm.length > 0) parts.push(`remove ${rm.map((l) => licenceText(l, names)).join(', ')}`);
    if (parts.length > 0) lines.push({ label: 'asked', before: '', after: '', text: parts.join('; ') });
  }
  const a = isObject(after) && isLicenceList(after['licences']) ? after['licences'] : null;
  if (!a) {
    lines.push({ label: 'licences', before: '', after: '', text: 'not changed' });
    return lines;
  }
  const diff = licenceDiff(b ?? [], a, names);
  if (diff.length === 0) lines.push({ label: 'licences', before: '', after: '', text: 'unchanged' });
  lines.push(...diff);
  return lines;
}

/** The licences that came, went or changed between two lists (by SKU), in words. */
export function licenceDiff(before: readonly LicenceLike[], after: readonly LicenceLike[], names: Names): ChangeLine[] {
  const key = (l: LicenceLike): string => l.skuId.toLowerCase();
  const was = new Map(before.map((l) => [key(l), l]));
  const now = new Map(after.map((l) => [key(l), l]));
  const out: ChangeLine[] = [];
  for (const [k, l] of now) {
    const old = was.get(k);
    if (!old) out.push({ label: 'added', before: '', after: '', text: licenceText(l, names) });
    else if (licenceText(old, names) !== licenceText(l, names)) out.push({ label: 'changed', before: licenceText(old, names), after: licenceText(l, names) });
  }
  for (const [k, l] of was) if (!now.has(k)) out.push({ label: 'removed', before: '', after: '', text: licenceText(l, names) });
  return out;
}

/**
 * What changed between the recorded before and after. Two objects give one line per key that differs (with
 * `licences` and licence lists by name); anything else gives one line with both values.
 */
export function changeLines(before: unknown, after: unknown, names: Names = NO_NAMES): ChangeLine[] {
  const lc = licenceChange(before, after, names);
  if (lc) return lc;
  if (isObject(before) && isObject(after) && !isLicence(before) && !isLicence(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !k.endsWith('At') && k !== 'id' && k !== 'customerId');
    const lines: ChangeLine[] = [];
    for (const k of keys.sort()) {
      const bl = before[k];
      const al = after[k];
      if (k === 'licences' && isLicenceList(bl) && isLicenceList(al)) {
        lines.push(...licenceDiff(bl, al, names));
        continue;
      }
      const b = valueText(before[k], names);
      const a = valueText(after[k], names);
      if (b !== a) lines.push({ label: k, before: b, after: a });
    }
    return lines;
  }
  if ((before === undefined || before === null) && (after === undefined || after === null)) return [];
  return [{ label: '', before: valueText(before, names), after: valueText(after, names) }];
}

/** The outcome of a record as a label. */
export function outcomeLabel(outcome: string): string {
  return outcome === 'ok' ? 'OK' : outcome === 'failed' ? 'Failed' : outcome || '—';
}
