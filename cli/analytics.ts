// CLI group "analytics": weft analytics export (Parquet + weft.duckdb), query, list.
import path from 'node:path';
import { withDb } from './stores.js';
import { InvalidArgumentError, type Command } from 'commander';

function parseFormat(value: string): 'table' | 'csv' | 'json' {
  if (value === 'table' || value === 'csv' || value === 'json') return value;
  throw new InvalidArgumentError(`must be table, csv or json, got "${value}"`);
}

/** A path relative to the working directory when it is inside it, else absolute. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? p : rel;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

export function registerAnalyticsCommands(program: Command): void {
  const analytics = program
    .command('analytics')
    .description('Parquet exports of the events and projections for DuckDB, and ready-made queries');

  analytics
    .command('export')
    .description(
      'write the events (one file per day), every projection and the audit log as Parquet, and weft.duckdb ' +
        'with views over them; a second export reads only the newer events',
    )
    .option('-o, --out <dir>', 'export folder', 'analytics')
    .option('--since <day>', 'only events on or after this UTC day (YYYY-MM-DD)')
    .option('--full', 'ignore the earlier export and read everything again')
    .option('-q, --quiet', 'no progress output')
    .action(async (opts: { out: string; since?: string; full?: boolean; quiet?: boolean }) => {
      const { parseSinceDay, exportAnalytics } = await import('../pipeline/analytics/export.js');
      if (opts.since !== undefined) parseSinceDay(opts.since);
      await withDb(async (db) => {
        const r = await exportAnalytics(db, {
          out: opts.out,
          since: opts.since,
          full: opts.full,
          log: opts.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
        });
        const lines = [
          `exported to ${shown(r.dir)}/ (${r.mode}: ${r.reason})`,
          ...r.tables.map(
            (t) =>
              `  ${t.name.padEnd(13)} ${String(t.rows).padStart(10)} rows  ${`(${t.read} read)`.padEnd(16)} ` +
              `${String(t.files).padStart(4)} file${t.files === 1 ? ' ' : 's'} ${size(t.bytes).padStart(9)}`,
          ),
          `  ${r.files.filter((f) => f.changed).length} files written, ` +
            `${r.files.filter((f) => !f.changed).length} unchanged, ${r.removed.length} removed; ` +
            `views in ${shown(r.catalog)} (${(r.ms / 1000).toFixed(1)} s)`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });

  analytics
    .command('query')
    .description('run SQL, a .sql file or a ready-made query (see `weft analytics list`) on an export')
    .argument('<query>', 'SQL text, a .sql file, or the name of a query in sql/analytics/')
    .option('-d, --dir <dir>', 'export folder', 'analytics')
    .option('-f, --format <format>', 'table, csv or json', parseFormat, 'table')
    .action(async (query: string, opts: { dir: string; format: 'table' | 'csv' | 'json' }) => {
      const { resolveQuery, runQuery } = await import('../pipeline/analytics/query.js');
      const { formatOutput } = await import('../pipeline/analytics/format.js');
      const { sql, source } = resolveQuery(query);
      const out = await runQuery(opts.dir, sql, source);
      process.stdout.write(formatOutput(out, opts.format));
    });

  analytics
    .command('list')
    .description('the ready-made queries of sql/analytics/ and what each answers')
    .action(async () => {
      const { listQueries } = await import('../pipeline/analytics/query.js');
      const queries = listQueries();
      const width = Math.max(...queries.map((q) => q.name.length));
      process.stdout.write(queries.map((q) => `${q.name.padEnd(width)}  ${q.question}\n`).join(''));
    });
}
