// The fade rule, in one place: a thread fades linearly to 0 over seven days after its last activity.
export const FADE_PERIOD_MS = 7 * 24 * 60 * 60 * 1000;

/** An instant: a Date, milliseconds since the epoch, or an ISO 8601 string. */
export type Instant = Date | number | string;

export function toMillis(t: Instant): number {
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${String(t)}`);
  return ms;
}

/** fade(T) = clamp(1 − (T − lastActivity) / 7 days, 0, 1): 1 when fresh, 0 once seven days have passed. */
export function fade(T: Instant, lastActivity: Instant): number {
  const f = 1 - (toMillis(T) - toMillis(lastActivity)) / FADE_PERIOD_MS;
  return f <= 0 ? 0 : f >= 1 ? 1 : f;
}

/** The first instant at which fade(·, lastActivity) is 0, as milliseconds. */
export function fadedAtMillis(lastActivity: Instant): number {
  return toMillis(lastActivity) + FADE_PERIOD_MS;
}
