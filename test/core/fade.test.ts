// The fade rule: clamp(1 − (T − lastActivity) / 7 days, 0, 1), for every way an instant can be given.
import { describe, expect, it } from 'vitest';
import { FADE_PERIOD_MS, fade, fadedAtMillis } from '../../core/fade.js';

const last = Date.parse('2025-01-10T00:00:00Z');
const DAY = 86_400_000;

describe('fade', () => {
  it('is 1 at the last activity, ½ after 3.5 days, 0 after 7 days and later', () => {
    expect(fade(last, last)).toBe(1);
    expect(fade(last + 3.5 * DAY, last)).toBe(0.5);
    expect(fade(last + DAY, last)).toBeCloseTo(6 / 7, 12);
    expect(fade(last + 7 * DAY, last)).toBe(0);
    expect(fade(last + 30 * DAY, last)).toBe(0);
  });

  it('is clamped to 1 before the last activity', () => {
    expect(fade(last - DAY, last)).toBe(1);
  });

  it('reaches 0 exactly at seven days, not a millisecond earlier', () => {
    expect(FADE_PERIOD_MS).toBe(7 * DAY);
    expect(fade(last + 7 * DAY - 1, last)).toBeGreaterThan(0);
    expect(fade(fadedAtMillis(last), last)).toBe(0);
  });

  it('accepts Dates, milliseconds and ISO strings alike', () => {
    const T = '2025-01-12T12:00:00.000Z';
    expect(fade(T, '2025-01-10T00:00:00Z')).toBe(fade(new Date(T), new Date(last)));
    expect(fade(Date.parse(T), last)).toBeCloseTo(1 - 2.5 / 7, 12);
    expect(() => fade('yesterday', last)).toThrow(/not an instant/);
  });

  it('never increases as T moves on', () => {
    let prev = 2;
    for (let h = -24; h <= 24 * 8; h += 5) {
      const f = fade(last + h * 3_600_000, last);
      expect(f).toBeLessThanOrEqual(prev);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThanOrEqual(1);
      prev = f;
    }
  });
});
