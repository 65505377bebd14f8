// A least-recently-used cache bounded by bytes, shared by every archive: each archive keeps its own maps (tiles by
// tile id, directories by offset) whose nodes sit on one recency list, so a hit is a map lookup and two pointer
// moves — no allocation — and eviction removes the oldest node from whichever map holds it.

export interface LruNode<K, V> {
  key: K;
  value: V;
  size: number;
  owner: Map<K, LruNode<K, V>>;
  prev: LruNode<K, V> | null;
  next: LruNode<K, V> | null;
}

export class ByteLru {
  /** bytes held now */
  bytes = 0;
  private head: LruNode<unknown, unknown> | null = null;
  private tail: LruNode<unknown, unknown> | null = null;

  constructor(readonly budget: number) {}

  /** The node under `key` in `owner`, marked most recently used; undefined on a miss. */
  get<K, V>(owner: Map<K, LruNode<K, V>>, key: K): LruNode<K, V> | undefined {
    const node = owner.get(key);
    if (node !== undefined && node !== (this.head as unknown)) {
      this.unlink(node as LruNode<unknown, unknown>);
      this.pushFront(node as LruNode<unknown, unknown>);
    }
    return node;
  }

  /** Adds (or replaces) `key` in `owner`, then evicts the least recently used nodes beyond the budget. */
  set<K, V>(owner: Map<K, LruNode<K, V>>, key: K, value: V, size: number): LruNode<K, V> | undefined {
    const old = owner.get(key);
    if (old) this.remove(old);
    if (size > this.budget) return undefined;
    const node: LruNode<K, V> = { key, value, size, owner, prev: null, next: null };
    owner.set(key, node);
    this.pushFront(node as LruNode<unknown, unknown>);
    this.bytes += size;
    while (this.bytes > this.budget && this.tail) this.remove(this.tail);
    return node;
  }

  /** Removes one node from its map and the recency list. */
  remove<K, V>(node: LruNode<K, V>): void {
    if (node.owner.get(node.key) !== node) return;
    node.owner.delete(node.key);
    this.unlink(node as LruNode<unknown, unknown>);
    this.bytes -= node.size;
  }

  /** Removes every node of one map (an archive that is no longer served). */
  drop<K, V>(owner: Map<K, LruNode<K, V>>): void {
    for (const node of [...owner.values()]) this.remove(node);
  }

  private unlink(node: LruNode<unknown, unknown>): void {
    if (node.prev) node.prev.next = node.next;
    else if (this.head === node) this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else if (this.tail === node) this.tail = node.prev;
    node.prev = node.next = null;
  }

  private pushFront(node: LruNode<unknown, unknown>): void {
    node.prev = null;
    node.next = this.head;
    if (this.head) this.head.prev = node;
    this.head = node;
    if (!this.tail) this.tail = node;
  }
}
