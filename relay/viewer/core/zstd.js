/* ds-relay viewer: FLAG_COMPRESSED payloads (docs/protocol.md §5)
 *
 * A compressed payload is exactly one zstd frame. The decoding itself is
 * the npm package fzstd's (relay/viewer/package.json; ds-relay serves it
 * as /vendor/fzstd.mjs, docs/relay.md "The viewer's zstd decoder"); what
 * is here is what has to happen before it runs: reading the frame's
 * header and walking its block headers (RFC 8878 §3.1.1) -- no block is
 * decoded here -- to refuse, before anything is allocated, a frame that
 * is not one frame, needs a dictionary, or could expand to more than the
 * caller's limit (a zstd bomb). fzstd has no output limit of its own: it
 * allocates what the header declares and runs every block to its end.
 *
 * Pure: no DOM, so that node can import it.
 */

const MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;   /* Block_Maximum_Size's upper bound */

/* How much decoding work a frame may cost, as a multiple of the limit:
 * the regenerated size of a compressed block is known only once it is
 * decoded, so each one is counted at the most it may regenerate
 * (min (window, 128 KiB)); encoders that split blocks (libzstd's block
 * splitter at high levels) make that sum larger than the content. */
const WORK_FACTOR = 16;

/**
 * Reads the zstd frame in @data (a Uint8Array) without decoding it.
 * Returns { contentSize (null when the header does not say), windowSize,
 * blocks, exact (bytes of raw and RLE blocks), most (the most all blocks
 * may regenerate) } or { error }.
 */
export function zstdFrameInfo (data) {
  const n = data.length;
  if (n < 6 || ((data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)) >>> 0) !== MAGIC)
    return { error: 'not a zstd frame' };
  const fhd = data[4];
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const checksum = (fhd >> 2) & 1;
  const dictFlag = fhd & 3;
  if (fhd & 0x08)
    return { error: 'zstd frame header with its reserved bit set' };
  let pos = 5;
  let windowSize = 0;
  if (!singleSegment) {
    const wd = data[pos++];
    const base = 2 ** (10 + (wd >> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  const dictBytes = [0, 1, 2, 4][dictFlag];
  let dictId = 0;
  for (let i = 0; i < dictBytes; i++)
    dictId += data[pos + i] * 2 ** (8 * i);
  pos += dictBytes;
  const fcsBytes = [singleSegment, 2, 4, 8][fcsFlag];
  let contentSize = null;
  if (fcsBytes > 0) {
    contentSize = 0;
    for (let i = 0; i < fcsBytes; i++)
      contentSize += data[pos + i] * 2 ** (8 * i);
    if (fcsBytes === 2)
      contentSize += 256;
  }
  pos += fcsBytes;
  if (pos > n)
    return { error: 'zstd frame header cut short' };
  if (dictId !== 0)
    return { error: 'zstd frame needs a dictionary' };
  if (singleSegment)
    windowSize = contentSize;

  const blockMax = Math.min(windowSize, BLOCK_MAX);
  let blocks = 0;
  let exact = 0;
  let most = 0;
  for (;;) {
    if (pos + 3 > n)
      return { error: 'zstd frame cut short' };
    const bh = data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16);
    pos += 3;
    const last = bh & 1;
    const type = (bh >> 1) & 3;
    const size = bh >>> 3;
    if (type === 3)
      return { error: 'zstd block of the reserved type' };
    if (size > blockMax)
      return { error: 'zstd block larger than the frame allows' };
    blocks++;
    if (type === 1) {         /* RLE: one byte, repeated size times */
      pos += 1;
      exact += size;
      most += size;
    } else {                  /* raw: size bytes; compressed: size bytes in */
      pos += size;
      if (type === 0)
        exact += size;
      most += type === 0 ? size : blockMax;
    }
    if (pos > n)
      return { error: 'zstd frame cut short' };
    if (last)
      break;
  }
  if (checksum)
    pos += 4;
  if (pos !== n)
    return { error: pos > n ? 'zstd frame cut short' : 'more than one zstd frame' };
  return { contentSize, windowSize, blocks, exact, most };
}

/**
 * Decompresses the one zstd frame in @data with @decompress (fzstd's
 * decompress(Uint8Array) -> Uint8Array), refusing a frame that could
 * hold more than @limit bytes. Returns { bytes } or { error, tooLarge }.
 */
export function zstdInflate (decompress, data, limit) {
  const info = zstdFrameInfo(data);
  if (info.error)
    return { error: info.error };
  const tooLarge = (what) => ({
    error: `zstd frame ${what} more than ${limit} bytes`,
    tooLarge: true,
  });
  if (info.contentSize) {
    /* fzstd allocates the declared size and decodes into it */
    if (info.contentSize > limit)
      return tooLarge('declares');
    if (info.exact > info.contentSize)
      return { error: 'zstd frame holds more than it declares' };
    if (info.most > WORK_FACTOR * limit + BLOCK_MAX)
      return tooLarge('may regenerate far');
  } else {
    /* no size (or 0) declared: fzstd allocates the window, then each
     * block as it comes, and slides the whole window once per block */
    if (info.windowSize > limit)
      return tooLarge('has a window of');
    if (info.most > limit)
      return tooLarge('may regenerate');
    if (info.blocks * info.windowSize > WORK_FACTOR * limit + BLOCK_MAX)
      return tooLarge('may take the work of far');
  }
  let bytes;
  try {
    bytes = decompress(data);
  } catch (e) {
    return { error: 'zstd: ' + (e && e.message ? e.message : String(e)) };
  }
  if (bytes.length > limit)
    return tooLarge('expands to');
  return { bytes };
}
