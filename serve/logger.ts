// JSON logs (pino) on stdout; client addresses appear only as their network (/24, /48), never whole.
import { pino, type Logger } from 'pino';
import type { ServeConfig } from './config.js';

export function createLogger(
  config: Pick<ServeConfig, 'logLevel'>,
  destination?: NodeJS.WritableStream,
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'weft-serve' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
