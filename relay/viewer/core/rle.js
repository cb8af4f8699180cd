/* ds-relay viewer: the run-length code of DeltaPixels (SPEC §3)
 *
 * A zero byte is followed by a u16 LE count of the zero bytes it stands
 * for; every other byte stands for itself. Decoded in place, XORed into
 * the reference, a word at a time where the buffers are aligned. Pure: no
 * DOM, so that node can import it.
 */

let scratch = new Uint32Array(0);

/* ref[pos..] ^= code[i..end) */
function xorLiterals (ref, ref32, code, i, end, pos) {
  if (end - i < 64 || ref32 === null) {
    for (let k = i; k < end; k++)
      ref[pos++] ^= code[k];
    return;
  }
  while (pos & 3) {
    ref[pos++] ^= code[i++];
  }
  const words = (end - i) >> 2;
  if (scratch.length < words)
    scratch = new Uint32Array(Math.max(words, scratch.length * 2));
  /* an aligned copy of the code (a memcpy), then 4 bytes per XOR */
  new Uint8Array(scratch.buffer, 0, words * 4).set(code.subarray(i, i + words * 4));
  const w0 = pos >> 2;
  for (let w = 0; w < words; w++)
    ref32[w0 + w] ^= scratch[w];
  pos += words * 4;
  i += words * 4;
  while (i < end)
    ref[pos++] ^= code[i++];
}

/* Index of the next zero byte of @code from @i, or -1: four bytes at a
 * time where the code is aligned (a word has a zero byte when
 * (w - 0x01010101) & ~w & 0x80808080 is not 0). */
function findZero (code, code32, i) {
  const n = code.length;
  if (code32 === null)
    return code.indexOf(0, i);
  while (i < n && ((code.byteOffset + i) & 3) !== 0) {
    if (code[i] === 0)
      return i;
    i++;
  }
  /* the code may end before the next word boundary: rounding down there
   * would scan bytes already scanned (a run's count taken for a zero) */
  if (i >= n)
    return -1;
  let w = (code.byteOffset + i) >> 2;
  const wEnd = (code.byteOffset + n) >> 2;
  while (w < wEnd) {
    const v = code32[w];
    if (((v - 0x01010101) & ~v & 0x80808080) !== 0)
      break;
    w++;
  }
  i = (w << 2) - code.byteOffset;
  while (i < n) {
    if (code[i] === 0)
      return i;
    i++;
  }
  return -1;
}

/**
 * XORs the run-length code in @code into @ref (both Uint8Array). A zero
 * byte is followed by a u16 LE count of zero bytes (nothing to XOR: the
 * position skips); every other byte XORs itself into the reference.
 * When @refIsZero (a keyframe), XOR is a plain copy. Returns true when
 * the code covers exactly ref.length bytes; on false the reference is
 * damaged and must wait for a keyframe.
 */
export function rleDecodeXor (code, ref, refIsZero) {
  const n = code.length;
  const size = ref.length;
  const ref32 = (ref.byteOffset & 3) === 0 ?
      new Uint32Array(ref.buffer, ref.byteOffset, size >> 2) : null;
  /* whole words of the buffer holding the code (the payload of a
   * message starts at byte 16, so it is aligned) */
  const code32 = n >= 64 ?
      new Uint32Array(code.buffer, 0, (code.byteOffset + n) >> 2) : null;
  let i = 0;
  let pos = 0;
  while (i < n) {
    const zero = findZero(code, code32, i);
    const end = zero < 0 ? n : zero;
    /* literal bytes up to the next zero */
    if (end > i) {
      if (pos + (end - i) > size)
        return false;
      if (refIsZero)
        ref.set(code.subarray(i, end), pos);
      else
        xorLiterals(ref, ref32, code, i, end, pos);
      pos += end - i;
      i = end;
    }
    if (zero < 0)
      break;
    if (i + 2 >= n)
      return false;           /* truncated run */
    const count = code[i + 1] | (code[i + 2] << 8);
    if (count === 0)
      return false;
    pos += count;
    if (pos > size)
      return false;
    i += 3;
  }
  return pos === size;
}
