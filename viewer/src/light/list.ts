// The light path's screen-reader list of the nodes in view, like the full viewer's: a heading, a polite live
// summary ("3 nodes in view") and one button per node named with its state (describeNode); a button centres the
// map on its node and opens its popup. Refreshed after the map moved and its tiles loaded.
import { summaryOf, type NodeSummary } from '../full/nodes.js';
import { NodeList } from '../node-list.js';
import { nodesInView, type PixelBounds, type TileOfFeatures } from './in-view.js';

export interface ListSource {
  /** the activity tiles covering the view, and the view, in world pixels at the current zoom */
  tiles(): Promise<{ tiles: TileOfFeatures[]; view: PixelBounds } | undefined>;
  /** shows a node (centres the map on it and opens its popup) */
  open(node: NodeSummary, at: { x: number; y: number }): void;
}

export class LightNodeList {
  private readonly list = new NodeList();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private run = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly source: ListSource,
  ) {
    root.classList.add('weft-light-side');
    root.replaceChildren(...this.list.elements());
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
    const at = new Map<NodeSummary, { x: number; y: number }>();
    for (const n of found.nodes) {
      const summary = summaryOf(n.props);
      if (summary) at.set(summary, { x: n.x, y: n.y });
    }
    this.list.show([...at.keys()], (s) => this.source.open(s, at.get(s)!), found.counted);
  }

  destroy(): void {
    clearTimeout(this.timer);
    this.run++;
    this.root.classList.remove('weft-light-side');
    this.root.replaceChildren();
  }
}
