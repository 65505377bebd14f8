// Progress and per-stage statistics for long pipeline steps: an updating line on a terminal, plain log lines
// otherwise (every few seconds and at the end of each stage), and a record of time, items and peak memory per stage.

export interface StageStats {
  stage: string;
  seconds: number;
  items: number;
  unit: string;
  perSecond: number;
  /** process peak resident set size at the end of the stage, MiB (peaks are monotone across stages) */
  peakRssMiB: number;
}

export class Progress {
  readonly stages: StageStats[] = [];
  private name = '';
  private unit = '';
  private total: number | undefined;
  private items = 0;
  private started = 0;
  private lastPrint = 0;
  private readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    private readonly quiet = false,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  stage(name: string, unit: string, total?: number): void {
    if (this.name) this.end();
    this.name = name;
    this.unit = unit;
    this.total = total;
    this.items = 0;
    this.started = performance.now();
    this.lastPrint = this.started;
  }

  setTotal(total: number): void {
    this.total = total;
  }

  tick(n = 1): void {
    this.items += n;
    const now = performance.now();
    if (this.quiet) return;
    if (now - this.lastPrint > (this.tty ? 200 : 5000)) {
      this.lastPrint = now;
      this.print(false);
    }
  }

  /** Logs a line that is not progress (a warning, a summary). */
  log(line: string): void {
    if (this.quiet) return;
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(`${line}\n`);
  }

  end(): StageStats | undefined {
    if (!this.name) return undefined;
    const seconds = (performance.now() - this.started) / 1000;
    const stats: StageStats = {
      stage: this.name,
      seconds: round(seconds, 3),
      items: this.items,
      unit: this.unit,
      perSecond: Math.round(this.items / Math.max(seconds, 1e-6)),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    this.stages.push(stats);
    if (!this.quiet) this.print(true);
    this.name = '';
    return stats;
  }

  private print(final: boolean): void {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = Math.round(this.items / Math.max(seconds, 1e-6));
    const pct = this.total ? ` ${Math.min(100, Math.floor((this.items / this.total) * 100))}%` : '';
    const line = `${this.name}:${pct} ${fmt(this.items)} ${this.unit}, ${fmt(rate)} ${this.unit}/s, ${seconds.toFixed(1)} s`;
    if (this.tty) this.out.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    else this.out.write(`${line}${final ? ' (done)' : ''}\n`);
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}
