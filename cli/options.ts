// Parsers for common CLI option values, failing with a clear message.
import { InvalidArgumentError } from 'commander';

export function parseZoom(value: string): number {
  const z = Number(value);
  if (!Number.isInteger(z) || z < 0 || z > 22)
    throw new InvalidArgumentError(`zoom must be an integer 0–22, got "${value}"`);
  return z;
}
