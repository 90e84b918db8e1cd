// The TypeScript declarations: types/ is what tsc makes of the JSDoc in
// src/ (so it cannot drift), and the packed package, installed like any
// dependency, type-checks a TypeScript game with `tsc --strict` — and
// rejects one that misuses the API, which proves the check can fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(pkg, 'node_modules/typescript/bin/tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** @type {string} */
let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'playhouse-client-types-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs tsc; resolves with its exit code and output (tsc reports errors on stdout).
 * @param {string[]} args
 * @param {string} cwd
 */
async function runTsc(args, cwd) {
  try {
    const { stdout } = await run(process.execPath, [tsc, ...args], { cwd });
    return { code: 0, out: stdout };
  } catch (e) {
    const err = /** @type {{ code: number, stdout: string, stderr: string }} */ (e);
    return { code: err.code, out: `${err.stdout}${err.stderr}` };
  }
}

test('types/ is what tsc makes of the JSDoc in src/ today (npm run types)', { timeout: 60_000 }, async () => {
  const out = join(dir, 'fresh');
  await run(process.execPath, [join(pkg, 'scripts/types.mjs'), '--outDir', out], { cwd: pkg });
  const fresh = readdirSync(out).sort();
  assert.deepEqual(readdirSync(join(pkg, 'types')).sort(), fresh, 'the same files');
  for (const f of fresh) {
    assert.equal(
      readFileSync(join(pkg, 'types', f), 'utf8'),
      readFileSync(join(out, f), 'utf8'),
      `types/${f} is stale: run \`npm run types\` in framework/js and commit types/`,
    );
  }
});

/** A game in TypeScript, written against the package as it is published. */
const GAME = `
import { Client, Room, ENVELOPE_PROTO, isNewerSeq, JoinError, ChannelError } from 'playhouse-client';
import type { RoomState, DroppedInput, SentInput, ConnectOptions, LeftEvent, Publication, Subscribed, StateStats } from 'playhouse-client';

interface Input { moveX: number; moveY: number }
const options: ConnectOptions = { tokens: ['arena.v2.proto'], protos: ['syntax = "proto3";'], reconnect: true, deltas: true, compression: true };

export async function play(url: string): Promise<void> {
  const client = await Client.connect(url, options);
  let room: Room;
  try {
    room = await client.joinOrCreate('arena', { name: 'ts', level: 2 });
  } catch (e) {
    if (e instanceof JoinError) console.log(e.codeName);
    throw e;
  }
  const id: string = room.id;
  const me: number = room.clientId;
  const seq: number | null = room.send({ moveX: 1, moveY: 0 } satisfies Input);
  const offState: () => void = room.onState((s: RoomState) => {
    const acked: number = s.ackedSeq;
    const covered: SentInput[] = s.acked;
    const pending: SentInput[] = room.unacked;
    console.log(s.tick, s.payload, acked, covered.length, pending.map((p) => p.seq));
  });
  room.onInputDropped((d: DroppedInput) => console.log(d.seq, d.code, d.input));
  room.onRejoined((r) => console.log(r.previous, r.room, r.client));
  room.onLeave((l: LeftEvent) => console.log(l.reason, l.detail));
  room.onMessage((m) => console.log(m.seq, m.payload));
  client.on('reconnected', (r) => console.log(r.resumed, r.rooms.map((x) => x.previous)));
  const sub: Subscribed = await client.subscribe('chat.room1', { recover: true });
  client.on('publication', (p: Publication) => console.log(p.channel, p.offset, p.epoch, p.payload.byteLength, p.publisher));
  client.on('presence', (p) => console.log(p.joined.concat(p.left)));
  client.on('channelError', (e: ChannelError) => console.log(e.code, e.reason, e.request));
  client.on('resubscribed', (r) => console.log(r.channel, r.recovered));
  const req: number = client.publish('chat.room1', new TextEncoder().encode('hi'));
  console.log(sub.missed.length, sub.presence, req, client.channelPosition('chat.room1')?.offset);
  console.log(id, me, seq, isNewerSeq(0, 0xffffffff), ENVELOPE_PROTO.length, client.getRoom(id) === room);
  const stats: StateStats = client.stats;
  console.log(stats.deltaStates, stats.deltaBytes / stats.rebuiltBytes, stats.deltaFailures);
  const compression: 'deflate' | null = client.compression;
  console.log(compression, stats.compressedStates, stats.compressedBytes / stats.inflatedBytes, stats.inflateMs, stats.inflateFailures);
  offState();
  const left: LeftEvent = await room.leave();
  console.log(left.room);
  await client.close();
}
`;

/** The same game with two mistakes the declarations must catch. */
const WRONG = `
import { Client } from 'playhouse-client';

export async function play(url: string): Promise<void> {
  const client = await Client.connect(url, { tokens: ['arena.v2.proto'] });
  const room = await client.joinOrCreate('arena');
  const seq: number = room.send({ moveX: 1 });
  room.onState((s) => console.log(s.ackSeq));
}
`;

test('the packed package type-checks a TypeScript game with tsc --strict, and rejects a wrong one', { timeout: 120_000 }, async () => {
  const { stdout } = await run(npm, ['pack', '--silent', '--pack-destination', dir], { cwd: pkg });
  const tarball = join(dir, stdout.trim().split('\n').at(-1) ?? '');
  const app = join(dir, 'app');
  await run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'ts-game', private: true, type: 'module' }));
  // the dependencies come from npm's cache, filled by npm ci of this package
  await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: app });
  const flags = ['--strict', '--noEmit', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext'];

  writeFileSync(join(app, 'game.ts'), GAME);
  const good = await runTsc([...flags, 'game.ts'], app);
  assert.equal(good.code, 0, `a correct game must type-check:\n${good.out}`);

  writeFileSync(join(app, 'wrong.ts'), WRONG);
  const bad = await runTsc([...flags, 'wrong.ts'], app);
  assert.notEqual(bad.code, 0, 'a wrong game must not type-check');
  assert.match(bad.out, /wrong\.ts\(7,9\): error TS2322: Type 'number \| null' is not assignable to type 'number'/);
  assert.match(bad.out, /wrong\.ts\(8,37\): error TS2551: Property 'ackSeq' does not exist on type 'RoomState'/);
});
