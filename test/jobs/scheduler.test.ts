// The scheduler with short fake intervals: every job runs at start and then on its interval with a log line per
// run, an overrunning job is skipped rather than stacked, a failing job is logged and keeps its schedule, and
// stop() waits for the running job.
import { describe, expect, it } from 'vitest';
import { formatInterval, parseInterval, startScheduler } from '../../jobs/scheduler.js';
import { parseSince } from '../../jobs/audit-log.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the job scheduler', () => {
  it('runs each job at start and on its interval, logging every run', async () => {
    const lines: string[] = [];
    let fast = 0;
    let failing = 0;
    const s = startScheduler(
      [
        { name: 'fast', everyMs: 40, run: async () => `run ${++fast}` },
        {
          name: 'failing',
          everyMs: 60,
          run: async () => {
            failing++;
            throw new Error('the store is down');
          },
        },
      ],
      { log: (l) => lines.push(l) },
    );
    await sleep(330);
    await s.stop();
    const settled = lines.length;
    await sleep(120);
    expect(lines.length).toBe(settled); // nothing runs after stop
    expect(lines.slice(0, 2)).toEqual([
      expect.stringMatching(/^\S+Z job fast: every 40ms$/),
      expect.stringMatching(/^\S+Z job failing: every 60ms$/),
    ]);
    expect(fast).toBeGreaterThanOrEqual(4);
    expect(failing).toBeGreaterThanOrEqual(3);
    const fastLines = lines.filter((l) => / job fast: run \d+ \(\d+ ms\)$/.test(l));
    expect(fastLines).toHaveLength(fast);
    expect(fastLines[0]).toMatch(/ job fast: run 1 \(/);
    expect(lines.filter((l) => / job failing failed: the store is down \(\d+ ms\)$/.test(l))).toHaveLength(
      failing,
    );
    expect(s.runs).toEqual({ fast, failing });
  });

  it('skips a run while the previous one is still going, and stop() waits for it', async () => {
    const lines: string[] = [];
    let finished = 0;
    const s = startScheduler(
      [
        {
          name: 'slow',
          everyMs: 30,
          run: async () => {
            await sleep(150);
            finished++;
            return 'done';
          },
        },
      ],
      { log: (l) => lines.push(l) },
    );
    await sleep(100);
    await s.stop();
    expect(finished).toBe(1);
    expect(
      lines.filter((l) => l.endsWith('job slow: still running, this run is skipped')).length,
    ).toBeGreaterThanOrEqual(1);
    expect(lines.at(-1)).toMatch(/ job slow: done \(\d+ ms\)$/);
  });

  it('can wait one interval before the first run', async () => {
    let runs = 0;
    const s = startScheduler([{ name: 'later', everyMs: 80, run: async () => `${++runs}` }], {
      log: () => {},
      runAtStart: false,
    });
    await sleep(40);
    expect(runs).toBe(0);
    await sleep(80);
    await s.stop();
    expect(runs).toBe(1);
  });

  it('reads and writes intervals and --since', () => {
    expect(parseInterval('1h')).toBe(3_600_000);
    expect(parseInterval('500ms')).toBe(500);
    expect(parseInterval('1.5s')).toBe(1500);
    expect(parseInterval('0s')).toBeUndefined();
    expect(parseInterval('soon')).toBeUndefined();
    expect(formatInterval(86_400_000)).toBe('1d');
    expect(formatInterval(90_000)).toBe('90s');
    const now = new Date('2025-05-02T00:00:00Z');
    expect(parseSince('24h', now)?.toISOString()).toBe('2025-05-01T00:00:00.000Z');
    expect(parseSince('2025-04-01T12:00:00Z', now)?.toISOString()).toBe('2025-04-01T12:00:00.000Z');
    expect(parseSince('yesterday', now)).toBeUndefined();
  });
});
