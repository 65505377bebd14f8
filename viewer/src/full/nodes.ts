// What the viewer says about a node: its state in words (for the screen-reader list and the panel) from the fields
// of the activity schema (fade, threads, open_proposals), and the nodes-in-view summary. Pure.

export interface NodeSummary {
  id: string;
  title: string;
  kind: string;
  fade: number;
  threads: number;
  openProposals: number;
  presence: number;
  point?: [number, number];
}

const n = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0) || 0);

/** A node summary from a tile or live feature's properties (undefined for count cells without an id). */
export function summaryOf(props: Record<string, unknown>, presence = 0): NodeSummary | undefined {
  const id = props.id;
  if (typeof id !== 'string' || !id) return undefined;
  return {
    id,
    title: typeof props.title === 'string' && props.title ? props.title : id,
    kind: typeof props.kind === 'string' ? props.kind : 'node',
    fade: n(props.fade ?? 1),
    threads: n(props.threads),
    openProposals: n(props.open_proposals),
    presence,
  };
}

/** 'fresh' (fade > 2/3), 'fading' (> 1/3) or 'faint'. */
export function activityWord(fade: number): string {
  return fade > 2 / 3 ? 'fresh' : fade > 1 / 3 ? 'fading' : 'faint';
}

const plural = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;

/** One line a screen reader reads for the node. */
export function describeNode(s: NodeSummary): string {
  const parts = [
    `${s.title}, ${s.kind}`,
    `${activityWord(s.fade)} activity`,
    plural(s.threads, 'thread', 'threads'),
    plural(s.openProposals, 'open proposal', 'open proposals'),
  ];
  if (s.presence > 0) parts.push(`${plural(s.presence, 'person', 'people')} looking`);
  return parts.join(', ');
}

/** The list's one-line summary (read by screen readers when it changes); `counted`: nodes in cells, not listed. */
export function inViewSummary(listed: number, counted: number, shown: number): string {
  if (listed === 0 && counted === 0) return 'No nodes in view';
  if (listed === 0) return `${counted} ${counted === 1 ? 'node' : 'nodes'} in view (zoom in to list them)`;
  const more = listed > shown ? ` (first ${shown} listed)` : '';
  const cells = counted ? `, ${counted} more counted (zoom in to list them)` : '';
  return `${listed} ${listed === 1 ? 'node' : 'nodes'} in view${more}${cells}`;
}
