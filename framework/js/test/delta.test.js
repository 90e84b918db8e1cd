// applyDelta, the SDK's side of the state delta format (proto/src/delta.rs):
// the deltas the Rust encoder wrote for a fixed set of states
// (proto/tests/delta_vectors.json, checked there against the encoder) give
// their targets here, malformed ones are refused the way Rust refuses them,
// and nothing reads outside its inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applyDelta, DeltaError } from '../src/index.js';

/**
 * @typedef {object} Vectors
 * @property {Array<{ name: string, baseline: string, target: string, delta: string }>} applies
 * @property {Array<{ name: string, baseline: string, delta: string, maxLen: number, error: string }>} refused
 */

/** @type {Vectors} */
const VECTORS = JSON.parse(readFileSync(new URL('../../../proto/tests/delta_vectors.json', import.meta.url), 'utf8'));

/** @param {string} hex @returns {Uint8Array} */
const bytes = (hex) => Uint8Array.from(Buffer.from(hex, 'hex'));

/**
 * The kind of the DeltaError `fn` throws.
 * @param {() => unknown} fn
 * @returns {string}
 */
function refusal(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DeltaError, `a DeltaError, not ${e}`);
    assert.equal(e.name, 'DeltaError');
    return e.kind;
  }
  assert.fail('the delta was applied');
}

test('the deltas the Rust encoder wrote give their targets (proto/tests/delta_vectors.json)', () => {
  assert.ok(VECTORS.applies.length >= 10);
  for (const v of VECTORS.applies) {
    const baseline = bytes(v.baseline);
    const before = baseline.slice();
    const out = applyDelta(baseline, bytes(v.delta), 1 << 20);
    assert.deepEqual(out, bytes(v.target), v.name);
    assert.deepEqual(baseline, before, `${v.name}: the baseline is left alone`);
    assert.ok(out.buffer !== baseline.buffer, `${v.name}: a new array`);
  }
});

test('malformed deltas are refused as Rust refuses them (proto/tests/delta_vectors.json)', () => {
  assert.ok(VECTORS.refused.length >= 10);
  for (const v of VECTORS.refused) {
    assert.equal(refusal(() => applyDelta(bytes(v.baseline), bytes(v.delta), v.maxLen)), v.error, v.name);
  }
});

/**
 * LEB128 of a non-negative integer.
 * @param {number | bigint} value
 * @returns {number[]}
 */
function leb(value) {
  let v = BigInt(value);
  const out = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const [COPY, ADD, SKIP, BACK] = [0, 1, 2, 3];

/**
 * One operation's header.
 * @param {number} kind
 * @param {number | bigint} n
 * @returns {number[]}
 */
const op = (kind, n) => leb((BigInt(n) << 2n) | BigInt(kind));

test('the announced length is checked against maxLen before anything is allocated', () => {
  const base = new Uint8Array([1, 2, 3, 4]);
  // 1 GiB announced, then a COPY that could not work anyway: too-large comes first.
  const huge = new Uint8Array([...leb(1 << 30), ...op(COPY, 4)]);
  assert.equal(refusal(() => applyDelta(base, huge, 4096)), 'too-large');
  assert.throws(() => applyDelta(base, huge, 4096), /delta target of 1073741824 bytes exceeds the limit/);
  // the limit itself is taken
  const whole = new Uint8Array([4, ...op(COPY, 4)]);
  assert.deepEqual(applyDelta(base, whole, 4), base);
  assert.equal(refusal(() => applyDelta(base, whole, 3)), 'too-large');
});

test('every operation, with copies and literals on both sides of the short-copy cutoff', () => {
  const base = Uint8Array.from({ length: 100 }, (_, i) => i);
  const lit = Array.from({ length: 40 }, (_, i) => 200 + (i % 50));
  const d = new Uint8Array([
    ...leb(10 + 2 + 40 + 40 + 50),
    ...op(COPY, 10), // cursor 10
    ...op(ADD, 2), 0xaa, 0xbb, // cursor 12
    ...op(SKIP, 8), // 20
    ...op(COPY, 40), // 60
    ...op(BACK, 50), // 10
    ...op(ADD, 40), ...lit, // 50
    ...op(COPY, 50), // 100: the baseline's end exactly
  ]);
  const want = [...base.slice(0, 10), 0xaa, 0xbb, ...base.slice(20, 60), ...lit, ...base.slice(50, 100)];
  assert.deepEqual([...applyDelta(base, d, 1000)], want);
});

test('a cursor past the baseline is fine until a COPY reads there; BACK brings it back', () => {
  const base = new Uint8Array([1, 2, 3, 4]);
  const apply = (/** @type {number[]} */ d) => [...applyDelta(base, new Uint8Array(d), 100)];
  assert.deepEqual(apply([8, ...op(ADD, 6), 9, 9, 9, 9, 9, 9, ...op(BACK, 6), ...op(COPY, 2)]), [9, 9, 9, 9, 9, 9, 1, 2]);
  assert.deepEqual(apply([2, ...op(SKIP, 9), ...op(BACK, 7), ...op(COPY, 2)]), [3, 4]);
  assert.equal(refusal(() => apply([2, ...op(SKIP, 3), ...op(COPY, 2)])), 'out-of-baseline');
  assert.equal(refusal(() => apply([2, ...op(SKIP, 2), ...op(BACK, 3)])), 'out-of-baseline');
});

test('operations and cursor positions past 2^53 - 1 are refused, not rounded', () => {
  const base = new Uint8Array([1, 2, 3, 4]);
  const apply = (/** @type {number[]} */ d) => [...applyDelta(base, new Uint8Array(d), 100)];
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  // an operation whose varint is past 2^53 - 1 (Rust would SKIP 2^53 - 1)
  assert.equal(refusal(() => apply([1, ...op(SKIP, max), ...op(COPY, 1)])), 'overflow');
  const far = (/** @type {number} */ kind, /** @type {number} */ times) => Array.from({ length: times }, () => op(kind, 1n << 50n)).flat();
  // eight SKIPs of 2^50 put the cursor past 2^53 - 1
  assert.equal(refusal(() => apply([1, ...far(SKIP, 8), ...far(BACK, 8), ...op(COPY, 1)])), 'overflow');
  // seven, and back again, stay exact
  assert.deepEqual(apply([1, ...far(SKIP, 7), ...far(BACK, 7), ...op(COPY, 1)]), [1]);
});

/** 2^53 - 1, past which applyDelta refuses operations and cursor positions (Rust does not). */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A transcription of proto/src/delta.rs `apply` with 64-bit BigInt
 * arithmetic, plus the one documented difference of applyDelta: an
 * operation or a cursor position past 2^53 - 1 is an `overflow`. The
 * oracle for random deltas.
 * @param {Uint8Array} base
 * @param {Uint8Array} d
 * @param {number} maxLen
 * @returns {number[] | string} the target, or the error's kind
 */
function reference(base, d, maxLen) {
  let at = 0;
  const varint = () => {
    let v = 0n;
    for (let shift = 0n; shift < 64n; shift += 7n) {
      if (at >= d.length) throw 'truncated';
      const b = BigInt(d[at++]);
      if (shift === 63n && (b & 0x7fn) > 1n) throw 'overflow';
      v |= (b & 0x7fn) << shift;
      if (b < 0x80n) return v;
    }
    throw 'overflow';
  };
  try {
    const len = varint();
    if (len > BigInt(maxLen)) throw 'too-large';
    /** @type {number[]} */
    const out = [];
    let cursor = 0n;
    while (BigInt(out.length) < len) {
      const o = varint();
      if (o > MAX_EXACT) throw 'overflow';
      const n = o >> 2n;
      const kind = o & 3n;
      if (n === 0n) throw 'empty';
      if (kind <= 1n && n > len - BigInt(out.length)) throw 'length';
      if (kind === 0n) {
        if (cursor + n > BigInt(base.length)) throw 'out-of-baseline';
        out.push(...base.subarray(Number(cursor), Number(cursor + n)));
        cursor += n;
      } else if (kind === 1n) {
        if (BigInt(at) + n > BigInt(d.length)) throw 'truncated';
        out.push(...d.subarray(at, at + Number(n)));
        at += Number(n);
        cursor += n;
      } else if (kind === 2n) {
        cursor += n;
      } else {
        if (n > cursor) throw 'out-of-baseline';
        cursor -= n;
      }
      if (cursor > MAX_EXACT) throw 'overflow';
    }
    if (at !== d.length) throw 'length';
    return out;
  } catch (e) {
    if (typeof e === 'string') return e;
    throw e;
  }
}

/**
 * `bytes` behind a proxy that throws on a read past its end (a typed array
 * gives `undefined` there, which would become a 0 without a sound).
 * @param {Uint8Array} bytes
 * @returns {Uint8Array}
 */
function fenced(bytes) {
  return new Proxy(bytes, {
    get(t, k) {
      if (typeof k === 'string' && /^\d+$/.test(k) && Number(k) >= t.length) throw new Error(`read of [${k}] past ${t.length}`);
      const v = Reflect.get(t, k, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

test('random deltas: what the transcription of Rust gives, never a read out of bounds, never more than maxLen', () => {
  let x = 12345;
  const rand = (/** @type {number} */ n) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % n;
  for (let round = 0; round < 20000; round++) {
    const base = Uint8Array.from({ length: rand(48) }, () => rand(256));
    /** @type {number[]} */
    let d;
    if (round % 4 === 0) {
      d = Array.from({ length: rand(48) }, () => rand(256)); // garbage
    } else {
      // well formed mostly: a length, then operations of small lengths, sometimes cut or with a byte more
      d = leb(rand(40));
      for (let k = rand(8); k > 0; k--) {
        const kind = rand(4);
        const n = rand(kind === ADD ? 8 : 40);
        d.push(...op(kind, n));
        if (kind === ADD) for (let i = 0; i < n; i++) d.push(rand(256));
      }
      if (rand(4) === 0) d = d.slice(0, rand(d.length + 1));
      if (rand(8) === 0) d.push(rand(256));
    }
    const want = reference(base, Uint8Array.from(d), 32);
    let got;
    try {
      got = [...applyDelta(fenced(base), fenced(Uint8Array.from(d)), 32)];
      assert.ok(got.length <= 32);
    } catch (e) {
      assert.ok(e instanceof DeltaError, String(e));
      got = e.kind;
    }
    assert.deepEqual(got, want, `baseline ${Buffer.from(base).toString('hex')}, delta ${Buffer.from(d).toString('hex')}`);
  }
});
