// A child process for the close() test: opens the bus the environment asks for, does one round trip (or, with
// BUS_CHILD_MODE=unreachable, fails to connect), closes it, and must then exit by itself with no handle left open.
import { openBus } from '../../core/bus/open.js';

const bus = openBus(process.env, { log: () => {} });
console.log(`kind ${bus.kind}`);
if (process.env.BUS_CHILD_MODE === 'unreachable') {
  await bus.ready(500).catch((err: { code?: string }) => console.log(`not ready ${err.code}`));
  await bus.subscribe('weft-test.unreachable', () => {});
  await bus
    .publish('weft-test.unreachable', 'm')
    .catch((err: { code?: string }) => console.log(`publish ${err.code}`));
} else {
  await bus.ready(10_000);
  const channel = process.env.BUS_CHILD_CHANNEL ?? 'weft-test.child';
  const received = new Promise<string>((resolve) => {
    void bus.subscribe(channel, (m) => resolve(String(m))).then(() => bus.publish(channel, 'hello'));
  });
  console.log(`received ${await received}`);
  await bus.subscribePrefix('weft-test.open-at-close.', () => {});
}
await bus.close();
console.log('closed');
// How long the process lingers after close(): a timer or socket left behind shows here as seconds.
const closedAt = Date.now();
process.on('exit', () => console.log(`exited ${Date.now() - closedAt} ms after close`));
