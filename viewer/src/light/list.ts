// The light path's screen-reader list of the nodes in view, like the full viewer's: a heading, a polite live
// summary ("3 nodes in view") and one button per node named with its state (describeNode); a button centres the
// map on its node and opens its popup. Refreshed after the map moved and its tiles loaded.
import { describeNode, summaryOf, type NodeSummary } from '../full/nodes.js';
import { inViewSummary, nodesInView, type PixelBounds, type TileOfFeatures } from './in-view.js';

/** Lists at most this many nodes (the summary says how many there are). */
const MAX_LISTED = 100;

export interface ListSource {
  /** the activity tiles covering the view, and the view, in world pixels at the current zoom */
  tiles(): Promise<{ tiles: TileOfFeatures[]; view: PixelBounds } | undefined>;
  /** shows a node (centres the map on it and opens its popup) */
  open(node: NodeSummary, at: { x: number; y: number }): void;
}

export class LightNodeList {
  private readonly summary: HTMLElement;
  private readonly list: HTMLUListElement;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private run = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly source: ListSource,
  ) {
    root.classList.add('weft-light-side');
    const heading = document.createElement('h2');
    heading.textContent = 'Nodes in view';
    heading.id = `weft-list-heading-${Math.random().toString(36).slice(2)}`;
    this.summary = document.createElement('p');
    this.summary.className = 'weft-summary';
    this.summary.setAttribute('role', 'status');
    this.summary.setAttribute('aria-live', 'polite');
    this.list = document.createElement('ul');
    this.list.className = 'weft-node-list';
    this.list.setAttribute('aria-labelledby', heading.id);
    root.replaceChildren(heading, this.summary, this.list);
  }

  /** Refreshes the list a moment after the last call. */
  update(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 250);
  }

  private async refresh(): Promise<void> {
    const run = ++this.run;
    let got: Awaited<ReturnType<ListSource['tiles']>>;
    try {
      got = await this.source.tiles();
    } catch {
      return; // a tile that failed to load: the map says so; the list keeps what it had
    }
    if (!got || run !== this.run) return;
    const found = nodesInView(got.tiles, got.view);
    const nodes = found.nodes
      .map((n) => ({ s: summaryOf(n.props), at: { x: n.x, y: n.y } }))
      .filter((n): n is { s: NodeSummary; at: { x: number; y: number } } => !!n.s)
      .sort((a, b) => a.s.title.localeCompare(b.s.title));
    const shown = nodes.slice(0, MAX_LISTED);
    this.list.replaceChildren(
      ...shown.map(({ s, at }) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'weft-node';
        b.dataset.nodeId = s.id;
        b.textContent = describeNode(s);
        b.addEventListener('click', () => this.source.open(s, at));
        li.append(b);
        return li;
      }),
    );
    const text = inViewSummary(nodes.length, found.counted, shown.length);
    if (this.summary.textContent !== text) this.summary.textContent = text;
  }

  destroy(): void {
    clearTimeout(this.timer);
    this.run++;
    this.root.classList.remove('weft-light-side');
    this.root.replaceChildren();
  }
}
