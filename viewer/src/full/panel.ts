// The node panel: a node's threads, proposals with their tallies and presence (GET /api/nodes/{id}); for a
// signed-in participant also "spin a thread", "vote" and "propose". Plain DOM, keyboard-reachable, errors announced.
import { ApiError, api, type NodeDetail, type WriteResult } from './api.js';
import { activityWord } from './nodes.js';

export interface PanelContext {
  token(): string | undefined;
  presence(nodeId: string): number;
  onClose(): void;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> & { className?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

export class NodePanel {
  nodeId: string | undefined;
  private detail: NodeDetail | undefined;
  private readonly status: HTMLElement;
  private readonly body: HTMLElement;

  constructor(
    readonly root: HTMLElement,
    private readonly ctx: PanelContext,
  ) {
    root.classList.add('weft-panel');
    root.hidden = true;
    root.setAttribute('role', 'region');
    root.setAttribute('aria-label', 'Node details');
    this.body = el('div');
    this.status = el('p', { className: 'weft-status' });
    this.status.setAttribute('role', 'status');
    this.status.setAttribute('aria-live', 'polite');
    root.append(this.body, this.status);
  }

  async open(nodeId: string): Promise<void> {
    this.nodeId = nodeId;
    this.root.hidden = false;
    this.root.dataset.nodeId = nodeId;
    this.say('Loading…');
    try {
      this.detail = await api<NodeDetail>(`/api/nodes/${encodeURIComponent(nodeId)}`);
      if (this.nodeId !== nodeId) return;
      this.render();
      this.say('');
      this.root.querySelector<HTMLElement>('h2')?.focus();
    } catch (err) {
      this.say(err instanceof ApiError ? err.message : String(err), true);
    }
  }

  close(): void {
    this.nodeId = undefined;
    this.detail = undefined;
    this.root.hidden = true;
    delete this.root.dataset.nodeId;
    this.ctx.onClose();
  }

  /** Re-reads the node (after a write or a delta touching it). */
  async refresh(): Promise<void> {
    if (this.nodeId) await this.open(this.nodeId);
  }

  updatePresence(): void {
    const p = this.root.querySelector('.weft-presence');
    if (p && this.nodeId) p.textContent = presenceText(this.ctx.presence(this.nodeId));
  }

  private say(text: string, error = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('weft-error', error);
  }

  private async write(path: string, body: unknown, done: string): Promise<void> {
    const token = this.ctx.token();
    if (!token) return this.say('Sign in first', true);
    this.say('Sending…');
    try {
      await api<WriteResult>(path, { method: 'POST', body, token });
      this.say(done);
      const keep = this.status.textContent;
      await this.refresh();
      this.say(keep ?? '');
    } catch (err) {
      this.say(err instanceof ApiError ? err.message : String(err), true);
    }
  }

  private render(): void {
    const d = this.detail!;
    const signedIn = !!this.ctx.token();
    const title = el('h2', { tabIndex: -1 }, d.node.title);
    const close = el('button', { type: 'button', className: 'weft-close', textContent: 'Close' });
    close.setAttribute('aria-label', 'Close node details');
    close.addEventListener('click', () => this.close());
    const meta = el(
      'p',
      { className: 'weft-meta' },
      `${d.node.kind} · last activity ${new Date(d.node.lastActivityAt).toLocaleString()}`,
    );
    const presence = el(
      'p',
      { className: 'weft-presence' },
      presenceText(Math.max(d.presence, this.ctx.presence(d.node.id))),
    );
    const threads = el('section', {}, el('h3', {}, `Threads (${d.threads.length})`));
    if (d.threads.length) {
      const list = el('ul', { className: 'weft-threads' });
      for (const t of d.threads)
        list.append(
          el(
            'li',
            {},
            `${activityWord(t.fade)} (${Math.round(t.fade * 100)} %) · ${new Date(t.lastActivityAt).toLocaleDateString()}`,
          ),
        );
      threads.append(list);
    }
    if (signedIn) {
      const spin = el('button', {
        type: 'button',
        className: 'weft-spin',
        textContent: 'Spin a thread to this node',
      });
      spin.addEventListener(
        'click',
        () => void this.write(`/api/nodes/${encodeURIComponent(d.node.id)}/threads`, {}, 'Thread spun'),
      );
      threads.append(spin);
    }
    const proposals = el('section', {}, el('h3', {}, `Proposals (${d.proposals.length})`));
    for (const p of d.proposals) {
      const item = el('article', { className: 'weft-proposal' });
      item.append(
        el('h4', {}, p.title),
        ...(p.body ? [el('p', {}, p.body)] : []),
        el(
          'p',
          { className: 'weft-tally' },
          `Yes ${p.tally.yes} · No ${p.tally.no} · Abstain ${p.tally.abstain} · ${p.closed ? 'closed' : `closes ${new Date(p.closesAt).toLocaleString()}`}`,
        ),
      );
      if (signedIn && !p.closed) {
        const votes = el('div', { className: 'weft-votes' });
        votes.setAttribute('role', 'group');
        votes.setAttribute('aria-label', `Vote on ${p.title}`);
        for (const choice of ['yes', 'no', 'abstain'] as const) {
          const b = el('button', { type: 'button', textContent: choice[0]!.toUpperCase() + choice.slice(1) });
          b.dataset.choice = choice;
          b.addEventListener(
            'click',
            () =>
              void this.write(
                `/api/proposals/${encodeURIComponent(p.id)}/votes`,
                { choice },
                `Voted ${choice}`,
              ),
          );
          votes.append(b);
        }
        item.append(votes);
      }
      proposals.append(item);
    }
    if (signedIn) proposals.append(this.proposeForm(d.node.id));
    this.body.replaceChildren(
      el('div', { className: 'weft-panel-head' }, title, close),
      meta,
      presence,
      threads,
      proposals,
    );
  }

  private proposeForm(nodeId: string): HTMLFormElement {
    const form = el('form', { className: 'weft-propose' });
    const titleInput = el('input', { type: 'text', required: true, maxLength: 160, name: 'title' });
    const days = el('input', { type: 'number', min: '1', max: '60', value: '7', name: 'days' });
    form.append(
      el('h3', {}, 'New proposal'),
      el('label', {}, 'Title ', titleInput),
      el('label', {}, 'Open for days ', days),
      el('button', { type: 'submit', textContent: 'Propose' }),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const closesAt = new Date(Date.now() + Number(days.value || 7) * 86_400_000).toISOString();
      void this.write(
        `/api/nodes/${encodeURIComponent(nodeId)}/proposals`,
        { title: titleInput.value, closesAt },
        'Proposal made',
      );
    });
    return form;
  }
}

function presenceText(k: number): string {
  return k > 0
    ? `${k} ${k === 1 ? 'person is' : 'people are'} looking at this node`
    : 'Nobody else is looking';
}
