// Running a benchmark's commands: under GNU time (`/usr/bin/time`, installed by `scripts/setup.sh --bench`), so
// that wall time, CPU time and peak RSS are measured the same way for us and for the peers we compare with; and
// whether a tool is installed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Timed {
  /** wall seconds */
  seconds: number;
  /** user + system CPU seconds of the process and its threads */
  cpuSeconds: number;
  /** peak resident memory */
  rssMiB: number;
  /** what the command printed on stdout (empty when its output was passed through) */
  stdout: string;
}

export interface TimedOptions {
  /** where GNU time writes its figures */
  timeFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** pass the command's output through instead of capturing it */
  inherit?: boolean;
}

/** Runs `cmd args` under GNU time; a failure throws with the end of the command's output. */
export function timed(cmd: string, args: string[], opts: TimedOptions): Timed {
  let stdout = '';
  try {
    const result = execFileSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', opts.timeFile, cmd, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: opts.inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
    });
    stdout = result ?? '';
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; status?: number };
    const tail = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${e.status})${tail ? `:\n${tail}` : ''}`);
  }
  // GNU time's own line is the last (a command killed by a signal gets a note before it)
  const [e, u, s, m] = readFileSync(opts.timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { seconds: e!, cpuSeconds: u! + s!, rssMiB: m! / 1024, stdout };
}

/** True when `cmd` is on the PATH (or an executable path). */
export function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
