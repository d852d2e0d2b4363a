// Pure helpers of the number inventory: E.164 checks (as the server makes them), range sizes, the add form's
// validation and request body, labels of types and statuses. The server stays the authority: its field errors are
// shown as well.

import type { AddNumbersRequest, NumberStatus, NumberType, PhoneNumber } from '../api/types';
import { formatDateTime, parseTime } from './format';

/** The most numbers one range may add (the server's limit too). */
export const MAX_RANGE = 1000;
/** Longest extension, in digits. */
export const MAX_EXTENSION_DIGITS = 8;

/** Number types in menu order, with their labels. */
export const NUMBER_TYPES: ReadonlyArray<{ value: NumberType; label: string }> = [
  { value: 'directRouting', label: 'Direct Routing' },
  { value: 'operatorConnect', label: 'Operator Connect' },
  { value: 'callingPlan', label: 'Calling Plan' },
];

/** Number statuses in menu order, with their labels. */
export const NUMBER_STATUSES: ReadonlyArray<{ value: NumberStatus; label: string }> = [
  { value: 'available', label: 'Available' },
  { value: 'reserved', label: 'Reserved' },
  { value: 'assigned', label: 'Assigned' },
  { value: 'quarantined', label: 'Quarantined' },
];

/** The label of a number type ("Any type" for ""); an unknown one is shown as it is. */
export function numberTypeLabel(t: string | null | undefined): string {
  if (!t) return 'Any type';
  return NUMBER_TYPES.find((x) => x.value === t)?.label ?? t;
}

/** The label of a number status; an unknown one is shown as it is. */
export function numberStatusLabel(s: string | null | undefined): string {
  if (!s) return '—';
  return NUMBER_STATUSES.find((x) => x.value === s)?.label ?? s;
}

/** Whether a number is free in the inventory: available, or quarantined (free again from its date). */
export function isFree(n: Pick<PhoneNumber, 'status'>): boolean {
  return n.status === 'available' || n.status === 'quarantined';
}

/** Whether a number can be assigned now: available, or quarantined with its quarantine over. */
export function canAssign(n: Pick<PhoneNumber, 'status' | 'quarantinedUntil'>, now: Date = new Date()): boolean {
  if (n.status === 'available') return true;
  if (n.status !== 'quarantined') return false;
  const until = parseTime(n.quarantinedUntil);
  return until === null || until.getTime() <= now.getTime();
}

/** What a number's status means now, e.g. "Quarantined until 2025-03-01 10:00 UTC" or "Assigned to Ann". */
export function numberStatusText(n: Pick<PhoneNumber, 'status' | 'userName' | 'userId' | 'quarantinedUntil'>, now: Date = new Date()): string {
  const who = n.userName || n.userId;
  switch (n.status) {
    case 'assigned':
      return who ? `Assigned to ${who}` : 'Assigned';
    case 'reserved':
      return who ? `Reserved for ${who}` : 'Reserved';
    case 'quarantined': {
      const until = parseTime(n.quarantinedUntil);
      if (!until) return 'Quarantined';
      return until.getTime() <= now.getTime() ? 'Quarantine over: free again' : `Quarantined until ${formatDateTime(n.quarantinedUntil)}`;
    }
    default:
      return numberStatusLabel(n.status);
  }
}

/** Strips what people type between digits (spaces, dashes, dots, brackets); keeps a leading "+". */
export function normaliseNumber(s: string): string {
  return s.trim().replace(/[\s\-.()/]/g, '');
}

const E164 = /^\+[1-9]\d{7,14}$/;

/** Reports whether s (already normalised) is an E.164 number: "+", then 8 to 15 digits, the first not 0. */
export function isE164(s: string): boolean {
  return E164.test(s);
}

/** Why a typed number is not E.164, or "" when it is (after normalising). */
export function e164Problem(raw: string): string {
  const s = normaliseNumber(raw);
  if (s === '') return 'Enter a number.';
  if (!s.startsWith('+')) return 'Start with + and the country code, e.g. +441632960001.';
  if (!/^\+\d+$/.test(s)) return 'Use digits only after the +.';
  if (s[1] === '0') return 'The country code cannot start with 0.';
  const digits = s.length - 1;
  if (digits < 8) return 'Too short: an E.164 number has 8 to 15 digits after the +.';
  if (digits > 15) return 'Too long: an E.164 number has at most 15 digits after the +.';
  return '';
}

/** A range's size, or why it is not one. */
export type RangeSize = { ok: true; count: number } | { ok: false; field: 'from' | 'to'; message: string };

/**
 * How many numbers from…to holds (both ends included): both E.164, the same length (only the tail varies), to not
 * before from, at most MAX_RANGE.
 */
export function rangeSize(fromRaw: string, toRaw: string): RangeSize {
  const fp = e164Problem(fromRaw);
  if (fp) return { ok: false, field: 'from', message: fp };
  const tp = e164Problem(toRaw);
  if (tp) return { ok: false, field: 'to', message: tp };
  const from = normaliseNumber(fromRaw);
  const to = normaliseNumber(toRaw);
  if (from.length !== to.length) return { ok: false, field: 'to', message: 'The last number must have as many digits as the first.' };
  // 15 digits stay below 2^53: plain numbers are exact here.
  const a = Number(from.slice(1));
  const b = Number(to.slice(1));
  if (b < a) return { ok: false, field: 'to', message: 'The last number comes before the first.' };
  const count = b - a + 1;
  if (count > MAX_RANGE) return { ok: false, field: 'to', message: `That is ${count} numbers; a range holds at most ${MAX_RANGE}.` };
  return { ok: true, count };
}

/** The extension a number gets from its last `digits` digits ("" when digits is 0). */
export function extensionOf(number: string, digits: number): string {
  if (!Number.isInteger(digits) || digits <= 0) return '';
  const d = normaliseNumber(number).replace(/^\+/, '');
  return d.slice(-digits);
}

/** The add-numbers form. */
export interface AddNumbersDraft {
  mode: 'single' | 'range';
  number: string;
  from: string;
  to: string;
  type: NumberType | '';
  siteId: string;
  /** Single number: its extension ("" = none). */
  extension: string;
  /** Range (or single): the last n digits become the extension (0 = none). */
  extensionDigits: number;
}

export const EMPTY_ADD_DRAFT: AddNumbersDraft = {
  mode: 'single',
  number: '',
  from: '',
  to: '',
  type: 'directRouting',
  siteId: '',
  extension: '',
  extensionDigits: 0,
};

/** Field (JSON name) → message for what the server would refuse. */
export function validateAddNumbers(d: AddNumbersDraft): Record<string, string> {
  const errs: Record<string, string> = {};
  if (d.mode === 'single') {
    const p = e164Problem(d.number);
    if (p) errs['number'] = p;
    const ext = d.extension.trim();
    if (ext !== '' && !new RegExp(`^\\d{1,${MAX_EXTENSION_DIGITS}}$`).test(ext)) errs['extension'] = `An extension is 1 to ${MAX_EXTENSION_DIGITS} digits.`;
  } else {
    const r = rangeSize(d.from, d.to);
    if (!r.ok) errs[r.field] = r.message;
  }
  if (!NUMBER_TYPES.some((t) => t.value === d.type)) errs['type'] = 'Choose the type of the numbers.';
  if (d.siteId === '') errs['siteId'] = 'Choose the site the numbers belong to.';
  if (!Number.isInteger(d.extensionDigits) || d.extensionDigits < 0 || d.extensionDigits > MAX_EXTENSION_DIGITS) {
    errs['extensionDigits'] = `Between 0 and ${MAX_EXTENSION_DIGITS} digits.`;
  }
  return errs;
}

/** The request body of a valid draft (validateAddNumbers found nothing: the type is one of NUMBER_TYPES). */
export function addNumbersInput(d: AddNumbersDraft): AddNumbersRequest {
  const base = { type: d.type as NumberType, siteId: d.siteId };
  if (d.mode === 'single') {
    const ext = d.extension.trim();
    return { ...base, number: normaliseNumber(d.number), ...(ext ? { extension: ext } : d.extensionDigits > 0 ? { extensionDigits: d.extensionDigits } : {}) };
  }
  return { ...base, from: normaliseNumber(d.from), to: normaliseNumber(d.to), ...(d.extensionDigits > 0 ? { extensionDigits: d.extensionDigits } : {}) };
}

/** What adding did, in words: "Added 10 numbers; 2 were in the inventory already (left unchanged)." */
export function addResultText(added: readonly string[] | null | undefined, existing: readonly string[] | null | undefined): string {
  const a = added?.length ?? 0;
  const e = existing?.length ?? 0;
  const n = (k: number): string => `${k} ${k === 1 ? 'number' : 'numbers'}`;
  const first = a === 0 ? 'Added no number' : `Added ${n(a)}`;
  if (e === 0) return `${first}.`;
  return `${first}; ${n(e)} ${e === 1 ? 'was' : 'were'} in the inventory already (left unchanged).`;
}

/** What importing from Teams did, in words. */
export function importResultText(r: { read: number; created: number; updated: number; unchanged?: number; skipped: number; conflicts?: readonly string[] | null }): string {
  const parts = [`Read ${r.read} from Teams`, `${r.created} new`, `${r.updated} updated`];
  if (typeof r.unchanged === 'number') parts.push(`${r.unchanged} unchanged`);
  parts.push(`${r.skipped} skipped`);
  const c = r.conflicts?.length ?? 0;
  if (c > 0) parts.push(`${c} in conflict`);
  return `${parts.join(', ')}.`;
}

/** What releasing a number does, for the confirmation. */
export function releaseText(n: Pick<PhoneNumber, 'number' | 'userName' | 'userId'>, quarantineDays: number | null): string {
  const who = n.userName || n.userId || 'its user';
  const wait =
    quarantineDays === null
      ? 'It then waits in quarantine for the customer’s quarantine period before it can be assigned again.'
      : quarantineDays === 0
        ? 'Quarantine is off for this customer: it can be assigned again at once.'
        : `It then waits in quarantine for ${quarantineDays} ${quarantineDays === 1 ? 'day' : 'days'} before it can be assigned again.`;
  return `${n.number} is taken from ${who} in Teams. ${wait}`;
}
