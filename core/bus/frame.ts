// The wire form of a bus message on a broker: bytes keep apart from strings with a one-byte tag, while an
// ordinary string goes out as it is (so `redis-cli subscribe` shows JSON deltas, and a plain text message
// published by another tool arrives as a string).
//
//   0x00 + bytes   → Buffer        0x01 + UTF-8  → string (only for a string that itself starts with \0 or \x01)
//   anything else  → the whole payload as a UTF-8 string
import type { BusMessage } from './adapter.js';

const BINARY = 0x00;
const STRING = 0x01;

/** The payload to send for a message. */
export function encodeMessage(message: Uint8Array | string): Buffer {
  if (typeof message === 'string') {
    const first = message.charCodeAt(0);
    if (first === BINARY || first === STRING) {
      return Buffer.concat([Buffer.of(STRING), Buffer.from(message, 'utf8')]);
    }
    return Buffer.from(message, 'utf8');
  }
  const out = Buffer.allocUnsafe(message.byteLength + 1);
  out[0] = BINARY;
  out.set(message, 1);
  return out;
}

/** The message a received payload carries. A Buffer result is a view of `payload` (no copy). */
export function decodeMessage(payload: Uint8Array): BusMessage {
  const buf = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  if (buf.length > 0 && buf[0] === BINARY) return buf.subarray(1);
  if (buf.length > 0 && buf[0] === STRING) return buf.toString('utf8', 1);
  return buf.toString('utf8');
}

/** The bytes a message counts against maxMessageBytes (before the tag). */
export function messageBytes(message: Uint8Array | string): number {
  return typeof message === 'string' ? Buffer.byteLength(message, 'utf8') : message.byteLength;
}
