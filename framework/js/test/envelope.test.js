// The envelope schema ships inside the package: a game passes only its own
// .proto files, and the copy cannot drift from the repository's schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ENVELOPE_PROTO, Schema, createCodec, parseTokens, decodeProto, decodeMsgpack } from '../src/index.js';
import { moduleFor, SOURCE } from '../scripts/sync-envelope.mjs';
import { PROTOS, GAME } from './helpers.js';

test('the shipped envelope is proto/schemas/playhouse/envelope.proto, byte for byte', () => {
  const repo = readFileSync(SOURCE);
  assert.ok(
    Buffer.from(ENVELOPE_PROTO, 'utf8').equals(repo),
    'src/envelope.proto.js is stale: run `npm run sync-envelope` in framework/js and commit it',
  );
  // and the file is what the sync script writes, so the script is the way to update it
  const module = readFileSync(fileURLToPath(new URL('../src/envelope.proto.js', import.meta.url)), 'utf8');
  assert.equal(module, moduleFor(repo.toString('utf8')));
});

test('the copy survives every character a template literal would take as syntax', async () => {
  const tricky = 'a `quoted` ${not.an.expression} back\\slash \\` and \\${ and a trailing \\';
  const url = `data:text/javascript;base64,${Buffer.from(moduleFor(tricky)).toString('base64')}`;
  const { ENVELOPE_PROTO: copy } = await import(url);
  assert.equal(copy, tricky);
});

test('a game passes only its own .proto files: the envelope types are there, in both codecs', () => {
  const schema = new Schema([PROTOS.arenaV2]);
  for (const name of ['ClientMsg', 'ServerMsg', 'Joined', 'Resume']) assert.ok(schema.type(`playhouse.envelope.${name}`), name);
  const clientMsg = /** @type {import('protobufjs').Type} */ (schema.type('playhouse.envelope.ClientMsg'));
  const msg = { kind: { ping: { clientTime: 42 } } };
  const proto = createCodec(parseTokens(['arena.v2.proto'])[0], schema, GAME);
  assert.deepEqual(decodeProto(clientMsg, proto.encodeClient(msg)).kind, msg.kind);
  const msgpack = createCodec(parseTokens(['arena.v2.msgpack'])[0], schema, GAME);
  assert.deepEqual(decodeMsgpack(clientMsg, msgpack.encodeClient(msg)).kind, msg.kind);
});

test('an envelope among the sources takes the place of the shipped one (a newer server schema, or an older game)', () => {
  const newer = PROTOS.envelope.replace(/message Ping \{/, 'message Ping {\n  string note = 15;');
  assert.notEqual(newer, PROTOS.envelope, 'the test edits the Ping message');
  const schema = new Schema([newer, PROTOS.arenaV2]);
  assert.ok(schema.type('playhouse.envelope.Ping')?.fields.note, 'the given envelope is used');
  assert.doesNotThrow(() => new Schema([PROTOS.envelope, PROTOS.arenaV1, PROTOS.arenaV2]), 'no clash with the shipped one');
});
