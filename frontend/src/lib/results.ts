// Pure wording of what a licence change did, from the server's answer: which user holds what now, what failed and
// why (the server's message). Nothing here guesses: a line is written only from what the response says.

import type { AssignTemplateResult, OffboardResult, ReassignResult, ReassignStep } from '../api/types';
import { listWords, outcomeSummary, type ItemOutcome } from './licensing';

/** ok: everything went through; partial: some of it; failed: none of it. */
export type SummaryLevel = 'ok' | 'partial' | 'failed';

export interface Summary {
  level: SummaryLevel;
  title: string;
  lines: string[];
}

/** A step of a reassignment in words, e.g. `Assign to Ben: done (request-id r1)`. */
export function stepLine(s: ReassignStep, fromName: string, toName: string, userNames: ReadonlyMap<string, string> = new Map()): string {
  const of = (id: string, fallback: string): string => userNames.get(id) ?? fallback;
  let what: string;
  switch (s.action) {
    case 'licence.reassign.assign':
      what = `Assign to ${of(s.userId, toName)}`;
      break;
    case 'licence.reassign.remove':
      what = `Remove from ${of(s.userId, fromName)}`;
      break;
    case 'licence.reassign.restore':
      what = `Give back to ${of(s.userId, fromName)}`;
      break;
    case 'licence.reassign.undo':
      what = `Take back from ${of(s.userId, toName)}`;
      break;
    default:
      what = s.action;
  }
  return `${what}: ${s.ok ? 'done' : `failed — ${s.error || 'no reason given'}`}${s.requestId ? ` (request-id ${s.requestId})` : ''}`;
}

/**
 * What a reassignment did, from the server's answer (also the one an error body carries): its message as the title,
 * then who holds the licence now, each step sent to Microsoft 365 with its request-id, and the notes.
 */
export function reassignSummary(r: ReassignResult, fromName: string, toName: string): Summary {
  const licence = r.skuName || r.skuId;
  const level: SummaryLevel = r.done ? 'ok' : r.toHolds && r.fromHolds ? 'partial' : 'failed';
  const title =
    r.message ||
    (r.done
      ? `${licence} moved from ${fromName} to ${toName}.`
      : `${toName} did not get ${licence}${r.toError ? `: ${r.toError}` : '.'}`);
  const lines: string[] = [
    `Now: ${toName} ${r.toHolds ? 'holds' : 'does not hold'} ${licence}; ${fromName} ${r.fromHolds ? (r.fromRegained ? 'got it back' : 'still holds it') : 'does not hold it'}.`,
    ...(r.steps ?? []).map((s) => stepLine(s, fromName, toName)),
    ...(r.notes ?? []),
  ];
  return { level, title, lines };
}

/** What offboarding did: licences removed, and those kept via groups (with the groups). */
export function offboardSummary(r: OffboardResult, name: string): Summary {
  const removed = r.removed ?? [];
  const kept = r.keptViaGroup ?? [];
  const lines: string[] = [];
  if (removed.length > 0) lines.push(`Removed: ${removed.map((l) => l.name || l.skuId).join(', ')}${r.requestId ? ` (request-id ${r.requestId})` : ''}.`);
  for (const l of kept) lines.push(`Still held via ${listWords((l.groups ?? []).map((g) => g.name || g.id)) || 'a group'}: ${l.name || l.skuId}.`);
  lines.push(...(r.notes ?? []));
  const title =
    removed.length > 0
      ? `Offboarded ${name}: ${removed.length} ${removed.length === 1 ? 'licence' : 'licences'} removed${kept.length > 0 ? `, ${kept.length} kept via groups` : ''}.`
      : `${name} held no licence directly: nothing removed.`;
  return { level: 'ok', title, lines };
}

/**
 * Per-user outcomes of assigning a template, labelled by the users' names (`names`, else the id). A user who had
 * the template already ("unchanged") counts as done, and says so.
 */
export function applyOutcomes(r: AssignTemplateResult, names: ReadonlyMap<string, string>): ItemOutcome[] {
  return (r.items ?? []).map((x) => {
    const label = names.get(x.userId) ?? names.get(x.userId.toLowerCase()) ?? x.userId;
    if (x.outcome === 'failed') return { label, ok: false, message: x.error || 'no reason given' };
    return { label, ok: true, ...(x.outcome === 'unchanged' ? { message: 'had it already: nothing sent' } : {}) };
  });
}

/** The summary of applying a template. */
export function applySummary(template: string, items: readonly ItemOutcome[]): Summary {
  const ok = items.filter((i) => i.ok).length;
  const level: SummaryLevel = ok === items.length ? 'ok' : ok > 0 ? 'partial' : 'failed';
  return {
    level,
    title: `${template}: ${outcomeSummary('Applied', items)}`,
    lines: items.map((i) => (i.ok ? `${i.label}: ${i.message ?? 'done'}` : `${i.label}: ${i.message}`)),
  };
}
