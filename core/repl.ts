// The operator's interactive prompt: issue commands, query projections and events, run SQL.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Db } from './db/adapter.js';
import { listAudit } from './audit.js';
import { UserError, errorMessage } from './errors.js';
import { headPosition, checkpoint, readEvents } from './eventstore.js';
import { executeCommand } from './domain/execute.js';
import { COMMAND_TYPES } from './domain/commands.js';
import { activityAt, regionStats, type BBox } from './queries.js';
import { rebuildProjections } from './projections/projector.js';
import { eventToLine } from './transfer.js';

const HELP = `commands:
  <CommandType> {json}          run a domain command as operator:repl, e.g. EngageThread {"roleId":"r1","nodeId":"n1"}
  as <actor> <CommandType> {json}   the same, as another actor (a role id, system:<job>)
  events [after] [limit]        events after a position (default: the last 20)
  activity <w,s,e,n> [T]        visible nodes and live threads in a bbox at time T (default now), with fade
  stats [region]                per-region statistics
  head                          event head and projection checkpoint
  audit [n]                     the newest audit entries
  sql <statement>               any SQL; rows printed as JSON
  rebuild                       rebuild every projection from event 1
  help, quit
command types: ${COMMAND_TYPES.join(', ')}`;

function parseBbox(text: string | undefined): BBox {
  const parts = (text ?? '').split(',').map(Number);
  if (parts.length !== 4 || parts.some((x) => !Number.isFinite(x))) {
    throw new UserError(`bbox: expected w,s,e,n (four numbers), got "${text ?? ''}"`);
  }
  return parts as BBox;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch (err) {
    throw new UserError(`arguments: not valid JSON (${errorMessage(err)})`);
  }
}

/** Runs one line; returns false to quit. */
export async function replLine(db: Db, line: string, print: (text: string) => void): Promise<boolean> {
  const text = line.trim();
  if (!text || text.startsWith('#')) return true;
  const [word = '', ...rest] = text.split(/\s+/);
  const tail = text.slice(word.length).trim();
  switch (word) {
    case 'quit':
    case 'exit':
      return false;
    case 'help':
      print(HELP);
      return true;
    case 'head':
      print(`head ${await headPosition(db)}, projections at ${await checkpoint(db)}`);
      return true;
    case 'events': {
      const head = await headPosition(db);
      const limit = rest[1] ? Number(rest[1]) : 20;
      const after = rest[0] ? Number(rest[0]) : Math.max(0, head - limit);
      for (const e of await readEvents(db, { after, limit })) print(eventToLine(e));
      return true;
    }
    case 'activity': {
      const T = rest[1] ?? new Date().toISOString();
      const a = await activityAt(db, parseBbox(rest[0]), T);
      for (const n of a.nodes)
        print(`node ${n.node_id} “${n.title}” (${n.kind}) at ${n.lon},${n.lat}, ${n.thread_count} threads`);
      for (const t of a.threads)
        print(`thread ${t.thread_id} ${t.role_id} → ${t.node_id} fade ${t.fade.toFixed(3)}`);
      print(`${a.nodes.length} nodes, ${a.threads.length} live threads at ${T}`);
      return true;
    }
    case 'stats':
      for (const s of await regionStats(db, rest[0])) print(JSON.stringify(s));
      return true;
    case 'audit':
      for (const a of await listAudit(db, { limit: rest[0] ? Number(rest[0]) : 20 }))
        print(JSON.stringify(a));
      return true;
    case 'sql': {
      const { rows, rowCount } = await db.query(tail);
      for (const r of rows) print(JSON.stringify(r));
      print(`(${rowCount} row${rowCount === 1 ? '' : 's'})`);
      return true;
    }
    case 'rebuild': {
      const r = await rebuildProjections(db, { actor: 'operator:repl' });
      print(`rebuilt from ${r.events} events in ${r.ms} ms`);
      return true;
    }
    default: {
      let actor = 'operator:repl';
      let cmdText = text;
      if (word === 'as') {
        actor = rest[0] ?? '';
        cmdText = text.replace(/^as\s+\S+\s*/, '');
      }
      const [type = '', ...args] = cmdText.split(/\s+/);
      if (!(COMMAND_TYPES as string[]).includes(type)) {
        throw new UserError(`unknown command "${type}" (type help)`);
      }
      const body = parseJson(cmdText.slice(type.length).trim() || args.join(' '));
      const r = await executeCommand(db, { command: { ...(body as object), type }, actor });
      const events = r.events.map((e) => `${e.type}@${e.position}`).join(', ') || 'no events';
      print(`ok: ${events}${r.note ? ` (${r.note})` : ''} ${JSON.stringify(r.ids)}`);
      return true;
    }
  }
}

/** Reads lines from `input` until quit or end of input; an error is printed and the prompt goes on. */
export async function runRepl(db: Db, input: Readable, output: Writable, prompt = 'weft> '): Promise<void> {
  const terminal = Boolean((input as { isTTY?: boolean }).isTTY);
  const rl = createInterface({ input, output: terminal ? output : undefined, terminal, prompt });
  const print = (t: string) => output.write(`${t}\n`);
  if (terminal) {
    print(`weft repl on ${db.location} — type help`);
    rl.prompt();
  }
  for await (const line of rl) {
    try {
      if (!(await replLine(db, line, print))) break;
    } catch (err) {
      print(`error: ${errorMessage(err)}`);
    }
    if (terminal) rl.prompt();
  }
  rl.close();
}
