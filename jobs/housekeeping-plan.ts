// Which releases of a region housekeeping keeps, and why: every prod release, the previous prod (where a rollback
// goes), the N newest releases, releases retired less than 14 days ago, and anything it cannot read or that carries
// no stage. The rest — older staging and retired releases — may go. Pure: decides from the listing alone.
import type { ReleaseEntry } from '../pipeline/releases/catalog.js';
import { TAG } from '../pipeline/releases/stage.js';

export interface HousekeepingPolicy {
  /** How many of the newest releases (by T) are always kept. */
  keepRecent: number;
  /** How long a retired release stays after it was retired (the design says at least 14 days). */
  retiredGraceMs: number;
}

export const DEFAULT_POLICY: HousekeepingPolicy = { keepRecent: 3, retiredGraceMs: 14 * 86_400_000 };

export interface ReleaseDecision {
  id: string;
  stage: string;
  keep: boolean;
  /** Why it is kept, or why it may go. */
  why: string[];
}

/** The region's current prod release: the most recently promoted one tagged prod. */
function currentProd(entries: ReleaseEntry[]): ReleaseEntry | undefined {
  return entries
    .filter((e) => e.stage === 'prod')
    .sort((a, b) => ((a.tags[TAG.promoted] ?? '') < (b.tags[TAG.promoted] ?? '') ? 1 : -1))[0];
}

/** The release a rollback would go back to: the current prod's `previous` tag, else the latest retired one. */
function previousProd(entries: ReleaseEntry[], current: ReleaseEntry | undefined): string | undefined {
  const named = current?.tags[TAG.previous];
  if (named) return named;
  return entries
    .filter((e) => e.stage === 'retired' && e.tags[TAG.retired])
    .sort((a, b) => (a.tags[TAG.retired]! < b.tags[TAG.retired]! ? 1 : -1))[0]?.id;
}

/** One decision per release, in the listing's order (newest first). */
export function planReleases(
  entries: readonly ReleaseEntry[],
  now: Date,
  policy: HousekeepingPolicy = DEFAULT_POLICY,
): ReleaseDecision[] {
  const newestFirst = [...entries].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const current = currentProd(newestFirst);
  const previous = previousProd(newestFirst, current);
  return newestFirst.map((e, index) => {
    const why: string[] = [];
    if (e.stage === 'prod') why.push(e === current ? 'prod' : 'prod (older)');
    if (e.id === previous) why.push('previous prod');
    if (index < policy.keepRecent) why.push(`one of the ${policy.keepRecent} newest`);
    if (!e.manifest) why.push(`unreadable manifest, left alone (${e.problem ?? 'unknown problem'})`);
    if (!e.stage) why.push('no stage tag, left alone');
    if (e.stage === 'retired') {
      const at = Date.parse(e.tags[TAG.retired] ?? '');
      if (Number.isFinite(at) && now.getTime() - at < policy.retiredGraceMs)
        why.push(
          `retired ${e.tags[TAG.retired]}, less than ${Math.round(policy.retiredGraceMs / 86_400_000)} days ago`,
        );
    }
    if (why.length) return { id: e.id, stage: e.stage ?? 'untagged', keep: true, why };
    return {
      id: e.id,
      stage: e.stage!,
      keep: false,
      why: [`${e.stage}, older than the ${policy.keepRecent} newest`],
    };
  });
}
