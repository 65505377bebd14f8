// Direct socket writes for the live fan-out (native/fanout.c → build/native/fanout.node): a fan-out pass writes the
// same bytes to many clients, and one native call makes the system calls for a whole slice of them, without a stream
// write, a write request and a callback per client. Only for plain TCP sockets with nothing waiting in Node to be
// written (so the bytes go out in order); whatever a call does not send, the transport writes the ordinary way. Without
// the addon (not built) every write goes through node:net as before.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { loadAddon } from '../../core/native.js';

interface FanOutAddon {
  sendEach(fds: Int32Array, bytes: Uint8Array, out: Int32Array): void;
}

/** What node:net keeps of a TCP socket's libuv handle (internal, checked at run time). */
interface TcpHandle {
  fd?: number;
  writeQueueSize?: number;
}

let addon: FanOutAddon | null | undefined;

/** What the direct writes of this process did (for tests and the live bench): sockets written whole, in part, not. */
export const directStats = { whole: 0, partial: 0, refused: 0 };
let off = false;

/** Whether direct writes are available (the addon is built and loads, and they are not switched off). */
export function directSends(): boolean {
  if (off) return false;
  addon ??= loadAddon<FanOutAddon>('fanout', 'gcc').module;
  return addon !== null;
}

/** Switches direct writes off (true) or back on (false) in this process (tests and benchmarks compare both). */
export function setDirectSendsOff(value: boolean): void {
  off = value;
}

/**
 * The file descriptor of `socket` when bytes written to it now would go out in order: a plain (not TLS) TCP socket,
 * open, not corked, with nothing waiting in Node or libuv to be written; else -1.
 */
export function idleFd(socket: Duplex): number {
  if (!(socket instanceof net.Socket) || socket instanceof tls.TLSSocket) return -1;
  if (socket.destroyed || !socket.writable || socket.writableLength > 0 || socket.writableCorked) return -1;
  const handle = (socket as unknown as { _handle?: TcpHandle | null })._handle;
  if (!handle || typeof handle.fd !== 'number' || handle.fd < 0 || handle.writeQueueSize !== 0) return -1;
  return handle.fd;
}

/**
 * Writes `bytes` to each of `fds` without blocking. Returns, per fd, the bytes sent (possibly fewer than all, or 0)
 * or −errno (−11, EAGAIN: the socket's buffer is full); the caller writes the rest the ordinary way.
 */
export function sendEach(fds: readonly number[], bytes: Buffer): Int32Array {
  if (!directSends()) throw new Error('direct sends are not available');
  const out = new Int32Array(fds.length);
  addon!.sendEach(Int32Array.from(fds), bytes, out);
  for (const n of out) {
    if (n === bytes.length) directStats.whole += 1;
    else if (n > 0) directStats.partial += 1;
    else directStats.refused += 1;
  }
  return out;
}
