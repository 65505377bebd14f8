// A minimal WebSocket client for load generation (RFC 6455, the client side): the HTTP upgrade, then server frames
// parsed straight off each socket read and handed over as payload slices — no stream machinery, no event per
// frame. The live bench's 1,000 clients stand in for browsers on other machines but share this box's two cores with
// the server, so the less CPU they take, the less they disturb what is measured. Text and binary messages arrive
// whole (a fragmented message is an error: weft's server never fragments); pings are answered with pongs; a close
// frame is answered and ends the connection. Client frames (pong, close) are masked, as the protocol requires.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const readBuffer = Buffer.allocUnsafe(256 * 1024);

export class BenchSocket {
  private pending: Buffer | undefined;
  private closing = false;
  /** Resolves when the connection has ended. */
  readonly closed: Promise<void>;

  private constructor(
    private readonly socket: net.Socket,
    private readonly onMessage: (payload: Buffer) => void,
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /**
   * Opens `url` (ws://host:port/path?query); `onMessage` gets every text or binary message's payload (a slice
   * valid only during the call). Rejects when the server refuses the upgrade.
   */
  static open(url: string, onMessage: (payload: Buffer) => void): Promise<BenchSocket> {
    const u = new URL(url);
    if (u.protocol !== 'ws:') throw new Error(`BenchSocket: only ws:// URLs, not ${url}`);
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    return new Promise((resolve, reject) => {
      // every read lands in one buffer shared by the process's sockets (`onread`: no Buffer and no stream event per
      // read); what is parsed out of it is used or copied before the next read
      let onRead = (chunk: Buffer) => onHandshake(chunk);
      const socket = net.connect({
        host: u.hostname,
        port: Number(u.port || 80),
        onread: {
          buffer: readBuffer,
          callback: (n) => {
            onRead(readBuffer.subarray(0, n));
            return true;
          },
        },
      });
      socket.setNoDelay(true);
      let head = Buffer.alloc(0);
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      const onHandshake = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('error', fail);
        const text = head.subarray(0, end).toString('latin1');
        if (
          !/^HTTP\/1\.1 101 /.test(text) ||
          !text.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)
        )
          return fail(new Error(`BenchSocket: ${url} refused the upgrade: ${text.split('\r\n')[0]}`));
        const ws = new BenchSocket(socket, onMessage);
        onRead = (c: Buffer) => ws.data(c);
        socket.on('error', () => socket.destroy());
        resolve(ws);
        const rest = head.subarray(end + 4);
        if (rest.length) ws.data(rest);
      };
      socket.once('error', fail);
      socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  }

  /** Sends a close frame (1000) and waits for the connection to end. */
  close(): Promise<void> {
    if (!this.socket.destroyed && !this.closing) {
      this.closing = true;
      this.send(0x8, Buffer.from([0x03, 0xe8]));
      // a server that does not answer within a second is cut off
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    return this.closed;
  }

  private send(opcode: number, payload: Buffer): void {
    if (payload.length > 125) throw new Error('BenchSocket: control frames only');
    const mask = randomBytes(4);
    const frame = Buffer.alloc(6 + payload.length);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | payload.length;
    mask.copy(frame, 2);
    for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }

  /** Parses every whole frame in what has arrived; keeps a partial one for the next read. */
  private data(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let pos = 0;
    while (buf.length - pos >= 2) {
      const b0 = buf[pos]!;
      const b1 = buf[pos + 1]!;
      let len = b1 & 0x7f;
      let at = pos + 2;
      if (len === 126) {
        if (buf.length - at < 2) break;
        len = buf.readUInt16BE(at);
        at += 2;
      } else if (len === 127) {
        if (buf.length - at < 8) break;
        len = Number(buf.readBigUInt64BE(at));
        at += 8;
      }
      if (b1 & 0x80) return this.protocolError('a masked server frame');
      if (buf.length - at < len) break;
      const payload = buf.subarray(at, at + len);
      pos = at + len;
      const opcode = b0 & 0x0f;
      if (!(b0 & 0x80) || opcode === 0) return this.protocolError('a fragmented message');
      if (opcode === 0x1 || opcode === 0x2) this.onMessage(payload);
      else if (opcode === 0x9) this.send(0xa, Buffer.from(payload));
      else if (opcode === 0x8) {
        if (!this.closing) {
          this.closing = true;
          this.send(0x8, Buffer.from(payload.subarray(0, 2)));
        }
        this.socket.end();
        return;
      }
    }
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
  }

  private protocolError(what: string): void {
    this.socket.destroy(new Error(`BenchSocket: the server sent ${what}`));
  }
}
