// zstd frames made by hand for the tests (RFC 8878 §3.1.1): raw (stored)
// and RLE blocks only, which any zstd decoder reads; used for bombs that a
// real encoder would not write (a declared size that lies, a window or
// block count out of proportion). Real compressed blocks come from
// libzstd through dsdelta compression=zstd (gst.test.mjs).

const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
export const BLOCK_MAX = 128 * 1024;

/**
 * The frame header: @contentSize (a number, or null for none declared),
 * @windowLog (with no contentSize, or to write a window descriptor
 * anyway: then it is not a single segment), @dictId, @checksum.
 */
export function zstdHeader ({ contentSize = null, windowLog = null, dictId = 0, checksum = false } = {}) {
  const single = contentSize !== null && windowLog === null;
  let fcsFlag = 0, fcsBytes = single ? 1 : 0;
  if (contentSize !== null && (contentSize > 255 || !single)) {
    if (contentSize >= 256 && contentSize < 65536 + 256)
      fcsFlag = 1, fcsBytes = 2;
    else if (contentSize < 2 ** 32)
      fcsFlag = 2, fcsBytes = 4;
    else
      fcsFlag = 3, fcsBytes = 8;
  }
  const dictFlag = dictId === 0 ? 0 : dictId < 256 ? 1 : dictId < 65536 ? 2 : 3;
  const out = [...MAGIC, (fcsFlag << 6) | ((single ? 1 : 0) << 5) | ((checksum ? 1 : 0) << 2) | dictFlag];
  if (!single)
    out.push(((windowLog ?? 17) - 10) << 3);
  for (let i = 0; i < [0, 1, 2, 4][dictFlag]; i++)
    out.push((dictId >>> (8 * i)) & 0xff);
  let v = fcsBytes === 2 ? contentSize - 256 : contentSize;
  for (let i = 0; i < fcsBytes; i++) {
    out.push(v % 256);
    v = Math.floor(v / 256);
  }
  return out;
}

/** A block header: type 0 raw, 1 RLE, 2 compressed */
export function blockHeader (type, size, last) {
  const b = (size << 3) | (type << 1) | (last ? 1 : 0);
  return [b & 0xff, (b >> 8) & 0xff, (b >> 16) & 0xff];
}

/**
 * One frame holding @data in raw blocks, its size declared (or not, with
 * a window of 2^@windowLog)
 */
export function zstdStored (data, { declare = true, checksum = false, windowLog = 17 } = {}) {
  const out = zstdHeader(declare ? { contentSize: data.length, checksum } : { checksum, windowLog });
  const blockMax = declare ? BLOCK_MAX : Math.min(BLOCK_MAX, 2 ** windowLog);
  let done = 0;
  do {
    const n = Math.min(data.length - done, blockMax);
    out.push(...blockHeader(0, n, done + n === data.length));
    for (let i = 0; i < n; i++)
      out.push(data[done + i]);
    done += n;
  } while (done < data.length);
  if (checksum)
    out.push(0, 0, 0, 0);       // not checked by fzstd nor by us
  return Uint8Array.from(out);
}

/**
 * A bomb: @blocks RLE blocks of @size bytes each (4 bytes of frame for
 * each), with @header (zstdHeader's options)
 */
export function zstdRleBomb (blocks, size, header = {}) {
  const out = zstdHeader(header);
  for (let i = 0; i < blocks; i++)
    out.push(...blockHeader(1, size, i === blocks - 1), 0x01);
  return Uint8Array.from(out);
}
