// Input seqs on the client: RFC 1982 serial comparison and the log of
// inputs a room handle keeps for prediction (the rule of docs/protocol.md §6
// and playhouse::protocol::input_seq).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNewerSeq, MAX_UNACKED } from '../src/index.js';
import { InputLog, nextSeq } from '../src/inputs.js';

const MAX = 0xffffffff;

test('a seq is newer when it is 1 … 2^31-1 ahead, modulo 2^32', () => {
  assert.equal(isNewerSeq(1, 0), true);
  assert.equal(isNewerSeq(0, MAX), true, 'a stream that wraps keeps going');
  assert.equal(isNewerSeq(3, MAX - 2), true);
  assert.equal(isNewerSeq(0x7fffffff, 0), true, '2^31-1 ahead is the farthest newer');
  assert.equal(isNewerSeq(5, 5), false, 'equal is not newer');
  assert.equal(isNewerSeq(0, 1), false);
  assert.equal(isNewerSeq(MAX, 0), false, 'MAX is one behind 0');
  assert.equal(isNewerSeq(0x80000000, 0), false, 'exactly 2^31 apart: not ordered');
  assert.equal(isNewerSeq(0, 0x80000000), false);
});

test('seqs wrap from 2^32-1 to 0', () => {
  assert.equal(nextSeq(0), 1);
  assert.equal(nextSeq(MAX - 1), MAX);
  assert.equal(nextSeq(MAX), 0);
});

test('an ack covers every pending input up to it and returns them, oldest first', () => {
  const log = new InputLog();
  for (let seq = 1; seq <= 5; seq++) log.record(seq, { n: seq });
  assert.equal(log.sent, 5);
  assert.equal(log.next, 6);
  assert.deepEqual(log.ack(3).map((e) => e.seq), [1, 2, 3]);
  assert.equal(log.acked, 3);
  assert.deepEqual(log.unacked(), [{ seq: 4, input: { n: 4 } }, { seq: 5, input: { n: 5 } }]);
  assert.deepEqual(log.ack(3), [], 'the same ack again: nothing new');
});

test('a stale ack never moves the ack back nor resurrects acked inputs', () => {
  const log = new InputLog();
  for (let seq = 1; seq <= 3; seq++) log.record(seq, {});
  log.ack(2);
  assert.deepEqual(log.ack(1), []);
  assert.equal(log.acked, 2);
  assert.deepEqual(log.unacked().map((e) => e.seq), [3]);
});

test('acks follow a stream across the wrap (a `<=` rule would take 0 and 1 as acked at once)', () => {
  const log = new InputLog();
  log.acked = MAX - 3;
  for (const seq of [MAX - 1, MAX, 0, 1]) log.record(seq, {});
  assert.deepEqual(log.ack(MAX).map((e) => e.seq), [MAX - 1, MAX]);
  assert.deepEqual(log.unacked().map((e) => e.seq), [0, 1]);
  assert.deepEqual(log.ack(0).map((e) => e.seq), [0]);
  assert.equal(log.acked, 0);
  assert.deepEqual(log.unacked().map((e) => e.seq), [1]);
});

test('a dropped input leaves the pending list; a later ack skips it', () => {
  const log = new InputLog();
  for (let seq = 1; seq <= 3; seq++) log.record(seq, { n: seq });
  assert.deepEqual(log.drop(2), { seq: 2, input: { n: 2 } });
  assert.equal(log.drop(2), null, 'named twice: once gone, stays gone');
  assert.equal(log.drop(9), null, 'never sent');
  assert.deepEqual(log.unacked().map((e) => e.seq), [1, 3]);
  assert.deepEqual(log.ack(3).map((e) => e.seq), [1, 3]);
});

test('at most MAX_UNACKED inputs are kept; a new seat starts over', () => {
  const log = new InputLog();
  for (let seq = 1; seq <= MAX_UNACKED + 10; seq++) log.record(seq, {});
  const kept = log.unacked();
  assert.equal(kept.length, MAX_UNACKED);
  assert.equal(kept[0].seq, 11, 'the oldest went first');
  log.reset();
  assert.deepEqual({ sent: log.sent, acked: log.acked, next: log.next, pending: log.unacked() }, { sent: 0, acked: 0, next: 1, pending: [] });
});
