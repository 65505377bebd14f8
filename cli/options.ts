// Parsers for common CLI option values, failing with a clear message.
import { InvalidArgumentError } from 'commander';

export function parseZoom(value: string): number {
  const z = Number(value);
  if (!Number.isInteger(z) || z < 0 || z > 22)
    throw new InvalidArgumentError(`zoom must be an integer 0–22, got "${value}"`);
  return z;
}

/** An ISO 8601 time (at least a full date), e.g. for --now, --at. */
export function instant(value: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime()))
    throw new InvalidArgumentError(`must be an ISO 8601 time, got "${value}"`);
  return d;
}
