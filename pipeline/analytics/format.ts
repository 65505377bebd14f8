// Query results as text: an aligned table (numbers right-aligned), CSV (RFC 4180) or JSON (an array of objects,
// one per line). Pure functions.
import type { QueryOutput } from './query.js';

export const FORMATS = ['table', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function formatTable(out: QueryOutput): string {
  const text = out.rows.map((row) => row.map((v) => (v === null ? 'NULL' : cell(v)).replace(/\r?\n/g, '↵')));
  const widths = out.columns.map((c, i) => Math.max(c.length, ...text.map((r) => [...r[i]!].length)));
  const right = out.rows.length
    ? out.columns.map((_, i) => out.rows.every((r) => r[i] === null || typeof r[i] === 'number'))
    : out.columns.map(() => false);
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(widths[i]! - [...s].length);
    return right[i] ? fill + s : s + fill;
  };
  const lines = [
    out.columns.map((c, i) => pad(c, i)).join(' │ '),
    widths.map((w) => '─'.repeat(w)).join('─┼─'),
    ...text.map((r) => r.map((s, i) => pad(s, i)).join(' │ ')),
  ];
  const n = out.rows.length;
  return `${lines.map((l) => l.trimEnd()).join('\n')}\n(${n} row${n === 1 ? '' : 's'})\n`;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function formatCsv(out: QueryOutput): string {
  const lines = [out.columns, ...out.rows.map((r) => r.map(cell))].map((r) => r.map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function formatJson(out: QueryOutput): string {
  if (!out.rows.length) return '[]\n';
  const objects = out.rows.map((r) =>
    JSON.stringify(Object.fromEntries(out.columns.map((c, i) => [c, r[i]]))),
  );
  return `[\n${objects.join(',\n')}\n]\n`;
}

export function formatOutput(out: QueryOutput, format: Format): string {
  if (format === 'csv') return formatCsv(out);
  if (format === 'json') return formatJson(out);
  return formatTable(out);
}
