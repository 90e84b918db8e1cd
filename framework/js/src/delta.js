// Binary deltas of state payloads (`State.baseline`, docs/protocol.md §4.5):
// the applying side of proto/src/delta.rs, whose module docs define the
// format. A delta turns the payload of an earlier state of the room (the
// baseline, one this client acknowledged) into the payload of a new one.
//
// `varint(target length)`, then operations `varint(n << 2 | kind)` until
// the target is complete: 0 COPY n bytes of the baseline at the cursor
// (cursor += n), 1 ADD the n bytes that follow (cursor += n), 2 SKIP n
// (cursor += n), 3 BACK n (cursor -= n). LEB128 varints; n >= 1.

import { DeltaError } from './errors.js';

/**
 * The largest operation and cursor position taken: 2^53 - 1, where
 * JavaScript numbers stop being exact. The Rust side takes 64 bits; no delta
 * its encoder writes comes near either (lengths and shifts are sizes of
 * states), and a longer target is refused by `maxLen` anyway.
 */
const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/**
 * Below this length a copy is a loop; from it on, `set` over a subarray
 * (which costs an object, but copies fast).
 */
const SHORT_COPY = 32;

/**
 * Reads one LEB128 varint of `d` at `r.at` (at most 64 bits, as the Rust
 * side reads them) and moves `r.at` past it. Exact up to {@link MAX_EXACT};
 * above, close enough to compare with a limit.
 * @param {Uint8Array} d
 * @param {{ at: number }} r
 * @returns {number}
 * @throws {DeltaError} `truncated`, `overflow`
 */
function varint(d, r) {
  let v = 0;
  for (let shift = 0, scale = 1; shift < 64; shift += 7, scale *= 128) {
    if (r.at >= d.length) throw new DeltaError('truncated');
    const b = d[r.at++];
    const bits = b & 0x7f;
    if (shift === 63 && bits > 1) break;
    v += bits * scale;
    if (b < 0x80) return v;
  }
  throw new DeltaError('overflow');
}

/**
 * Applies `delta` to `baseline` and returns the target (a new array; the
 * inputs are not changed). A delta that reads past either input, moves the
 * cursor before the baseline's start, or ends before or after the target's
 * announced length is refused, never half applied.
 *
 * @param {Uint8Array} baseline  the payload of the state the delta is against
 * @param {Uint8Array} delta     the payload of a `State` with `baseline` != 0
 * @param {number} maxLen        the longest target taken (checked before allocating it)
 * @returns {Uint8Array}
 * @throws {DeltaError} when the delta is malformed (`kind` says how)
 */
export function applyDelta(baseline, delta, maxLen) {
  const r = { at: 0 };
  const len = varint(delta, r);
  if (len > maxLen) throw new DeltaError('too-large', len);
  const out = new Uint8Array(len);
  let at = 0;
  let cursor = 0;
  while (at < len) {
    const op = varint(delta, r);
    if (op > MAX_EXACT) throw new DeltaError('overflow');
    const kind = op % 4;
    const n = (op - kind) / 4;
    if (n === 0) throw new DeltaError('empty');
    if (kind <= 1 && n > len - at) throw new DeltaError('length');
    if (kind === 0) {
      if (cursor + n > baseline.length) throw new DeltaError('out-of-baseline');
      copy(out, at, baseline, cursor, n);
      at += n;
      cursor += n;
    } else if (kind === 1) {
      if (r.at + n > delta.length) throw new DeltaError('truncated');
      copy(out, at, delta, r.at, n);
      r.at += n;
      at += n;
      cursor += n;
    } else if (kind === 2) {
      cursor += n;
    } else {
      if (n > cursor) throw new DeltaError('out-of-baseline');
      cursor -= n;
    }
    if (cursor > MAX_EXACT) throw new DeltaError('overflow');
  }
  if (r.at !== delta.length) throw new DeltaError('length');
  return out;
}

/**
 * `out[at..at+n] = src[from..from+n]`; both ranges are known to be inside.
 * @param {Uint8Array} out
 * @param {number} at
 * @param {Uint8Array} src
 * @param {number} from
 * @param {number} n
 */
function copy(out, at, src, from, n) {
  if (n < SHORT_COPY) {
    for (let i = 0; i < n; i++) out[at + i] = src[from + i];
  } else {
    out.set(src.subarray(from, from + n), at);
  }
}
