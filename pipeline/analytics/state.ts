// The export folder's state file: up to which event the append-only tables were exported, so that the next
// export reads only newer events. Deterministic content (no clock times): a full re-export writes the same file.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const STATE_FILE = 'export-state.json';
export const STATE_FORMAT = 1;

export interface ExportState {
  format: number;
  /** The last event position exported (0: none). */
  position: number;
  /** The id of the event at `position`: a different database (or a reset one) has another, or none. */
  eventId: string | null;
  /** The --since day the export was made with (YYYY-MM-DD), or null for everything. */
  since: string | null;
  /** A digest of the exported tables' columns: files of another layout are not appended to. */
  schema: string;
  /** The day partitions written per positioned table, sorted. */
  days: Record<string, string[]>;
}

/** The state in `dir`, or undefined when there is none or it is unreadable (then the export starts over). */
export function readState(dir: string): ExportState | undefined {
  const file = path.join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<ExportState>;
    if (
      s.format !== STATE_FORMAT ||
      !Number.isSafeInteger(s.position) ||
      (s.eventId !== null && typeof s.eventId !== 'string') ||
      (s.since !== null && typeof s.since !== 'string') ||
      typeof s.schema !== 'string' ||
      !s.days ||
      typeof s.days !== 'object'
    ) {
      return undefined;
    }
    return s as ExportState;
  } catch {
    return undefined;
  }
}

export function stateText(state: ExportState): string {
  const days: Record<string, string[]> = {};
  for (const name of Object.keys(state.days).sort()) days[name] = [...state.days[name]!].sort();
  return `${JSON.stringify({ ...state, days }, null, 2)}\n`;
}
