// Reads the header block of an .osm.pbf directly (no osmium process): its bounding box and required features.
// Returns undefined when the first block is not a readable OSMHeader; osmium then reports the real problem.
import { openSync, readSync, closeSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { PbfReader } from 'pbf';
import type { BBox } from './osmium.js';

export interface PbfHeader {
  bbox?: BBox;
  requiredFeatures: string[];
  /** compression of the header blob: raw, zlib, or the name of one we do not decode */
  compression: string;
}

const MAX_BLOB_HEADER = 64 * 1024;
const MAX_HEADER_BLOB = 32 * 1024 * 1024;

function readAt(fd: number, position: number, length: number): Uint8Array {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, position);
  return buf.subarray(0, n);
}

/** The header of the PBF file, or undefined if it cannot be decoded here. */
export function readPbfHeader(file: string): PbfHeader | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const len = readAt(fd, 0, 4);
    if (len.length < 4) return undefined;
    const headerSize = ((len[0]! << 24) | (len[1]! << 16) | (len[2]! << 8) | len[3]!) >>> 0;
    if (headerSize === 0 || headerSize > MAX_BLOB_HEADER) return undefined;
    const blobHeader = { type: '', datasize: 0 };
    new PbfReader(readAt(fd, 4, headerSize)).readFields((tag, h, pbf) => {
      if (tag === 1) h.type = pbf.readString();
      else if (tag === 3) h.datasize = pbf.readVarint();
    }, blobHeader);
    if (
      blobHeader.type !== 'OSMHeader' ||
      blobHeader.datasize <= 0 ||
      blobHeader.datasize > MAX_HEADER_BLOB
    ) {
      return undefined;
    }
    const blobBytes = readAt(fd, 4 + headerSize, blobHeader.datasize);
    if (blobBytes.length < blobHeader.datasize) return undefined;
    const blob: { raw?: Uint8Array; zlib?: Uint8Array; other?: string } = {};
    const others: Record<number, string> = { 4: 'lzma', 5: 'bzip2', 6: 'lz4', 7: 'zstd' };
    new PbfReader(blobBytes).readFields((tag, b, pbf) => {
      if (tag === 1) b.raw = pbf.readBytes();
      else if (tag === 3) b.zlib = pbf.readBytes();
      else if (others[tag]) b.other = others[tag];
    }, blob);
    let data: Uint8Array;
    let compression: string;
    if (blob.raw) [data, compression] = [blob.raw, 'raw'];
    else if (blob.zlib) [data, compression] = [inflateSync(blob.zlib), 'zlib'];
    else return blob.other ? { requiredFeatures: [], compression: blob.other } : undefined;
    const header: PbfHeader = { requiredFeatures: [], compression };
    new PbfReader(data).readFields((tag, h, pbf) => {
      if (tag === 1) {
        const b = { left: 0, right: 0, top: 0, bottom: 0 };
        pbf.readMessage((t, box, p) => {
          if (t === 1) box.left = p.readSVarint();
          else if (t === 2) box.right = p.readSVarint();
          else if (t === 3) box.top = p.readSVarint();
          else if (t === 4) box.bottom = p.readSVarint();
        }, b);
        h.bbox = [b.left / 1e9, b.bottom / 1e9, b.right / 1e9, b.top / 1e9];
      } else if (tag === 4) h.requiredFeatures.push(pbf.readString());
    }, header);
    return header;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
