// The screen-reader list of the nodes in view, the same in the full viewer and the light path: a heading, a polite
// live summary ("3 nodes in view") and one button per node named with its state (describeNode).
import { describeNode, inViewSummary, type NodeSummary } from './full/nodes.js';

/** Lists at most this many nodes (the summary says how many there are). */
export const MAX_LISTED = 100;

export class NodeList {
  readonly heading: HTMLHeadingElement;
  private readonly summary: HTMLParagraphElement;
  private readonly list: HTMLUListElement;

  constructor() {
    this.heading = document.createElement('h2');
    this.heading.textContent = 'Nodes in view';
    this.heading.id = `weft-list-heading-${Math.random().toString(36).slice(2)}`;
    this.summary = document.createElement('p');
    this.summary.className = 'weft-summary';
    this.summary.setAttribute('role', 'status');
    this.summary.setAttribute('aria-live', 'polite');
    this.list = document.createElement('ul');
    this.list.className = 'weft-node-list';
    this.list.setAttribute('aria-labelledby', this.heading.id);
  }

  /** The heading, the summary and the list, to place in the page. */
  elements(): HTMLElement[] {
    return [this.heading, this.summary, this.list];
  }

  /** Shows `nodes` (sorted by title here), each button calling `open`; `counted` nodes are in cells only. */
  show(nodes: NodeSummary[], open: (s: NodeSummary) => void, counted = 0): void {
    const sorted = [...nodes].sort((a, b) => a.title.localeCompare(b.title));
    const shown = sorted.slice(0, MAX_LISTED);
    this.list.replaceChildren(
      ...shown.map((s) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'weft-node';
        b.dataset.nodeId = s.id;
        b.textContent = describeNode(s);
        b.addEventListener('click', () => open(s));
        li.append(b);
        return li;
      }),
    );
    const text = inViewSummary(sorted.length, counted, shown.length);
    if (this.summary.textContent !== text) this.summary.textContent = text;
  }
}
