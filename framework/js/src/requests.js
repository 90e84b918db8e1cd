// Requests that wait for an answer: joins, leaves and pings (and, for
// auth.js, `Auth`). Each is a pending entry with its own timeout, settled by
// frames.js when the answer arrives, or failed with the connection.

import { ConnectionClosedError, TimeoutError } from './errors.js';
import { joinOptions } from './options.js';

/** @typedef {import('./client.js').Client} Client */
/** @typedef {import('./types.js').JoinResult} JoinResult */
/** @typedef {import('./types.js').LeftEvent} LeftEvent */
/** @typedef {import('./types.js').Pending} Pending */

/**
 * The clock of round-trip times, in ms.
 * @returns {number}
 */
export function nowMs() {
  return globalThis.performance ? globalThis.performance.now() : Date.now();
}

/**
 * A pending request: settling it clears its timer and drops it from its map;
 * without an answer within the client's `timeoutMs` it rejects with
 * {@link TimeoutError}.
 * @param {Client} client
 * @param {(v: any) => void} resolve
 * @param {(e: Error) => void} reject
 * @param {string} what
 * @param {() => void} remove  drops the entry from its map
 * @returns {Pending}
 */
export function pending(client, resolve, reject, what, remove) {
  /** @type {Pending} */
  const entry = {
    resolve: (v) => {
      clearTimeout(entry.timer);
      remove();
      resolve(v);
    },
    reject: (e) => {
      clearTimeout(entry.timer);
      remove();
      reject(e);
    },
    timer: setTimeout(() => entry.reject(new TimeoutError(`playhouse-client: ${what}: no answer within ${client._timeoutMs} ms`)), client._timeoutMs),
  };
  return entry;
}

/**
 * Sends the message of a pending request; an encoding error rejects it.
 * @param {Client} client
 * @param {Pending} entry
 * @param {object} msg
 */
function sendOrReject(client, entry, msg) {
  try {
    client._send(msg);
  } catch (e) {
    entry.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/**
 * Sends a `Join`, `JoinOrCreate` or `Create` and resolves with its `Joined`
 * (frames.js), rejects with its `JoinError`.
 * @param {Client} client
 * @param {'join' | 'joinOrCreate' | 'create'} kind
 * @param {{ room?: string, roomType?: string }} fields
 * @param {unknown} rawOptions  checked by joinOptions (a bad value rejects)
 * @returns {Promise<JoinResult>}
 */
export function joinRequest(client, kind, fields, rawOptions) {
  /** @type {Record<string, string>} */
  let options;
  try {
    options = joinOptions(rawOptions);
  } catch (e) {
    return Promise.reject(e);
  }
  if (!client._isOpen()) return Promise.reject(new ConnectionClosedError(1006, 'not connected', kind));
  const request = client._nextRequest;
  client._nextRequest = (client._nextRequest % 0xffffffff) + 1;
  return new Promise((resolve, reject) => {
    const entry = Object.assign(
      pending(client, resolve, reject, kind, () => client._pendingJoins.delete(request)),
      { options },
    );
    client._pendingJoins.set(request, entry);
    sendOrReject(client, entry, { kind: { [kind]: { request, ...fields, options } } });
  });
}

/**
 * Leaves `room` ({@link Client#leave}): the room is forgotten at once, and
 * the promise resolves with the server's `Left`.
 * @param {Client} client
 * @param {string} room
 * @returns {Promise<LeftEvent>}
 */
export function leaveRequest(client, room) {
  const rec = client._rooms.get(room);
  if (!rec) return Promise.reject(new Error(`playhouse-client: not in room ${room}`));
  rec.left = true;
  client._rooms.delete(room);
  client._leaving.add(room);
  if (!client._isOpen()) {
    if (client._status === 'reconnecting') return Promise.resolve({ room, reason: 1, detail: 'left while reconnecting' });
    return Promise.reject(new ConnectionClosedError(1006, 'not connected', 'leave'));
  }
  return new Promise((resolve, reject) => {
    const entry = pending(client, resolve, reject, `leave ${room}`, () => {
      const list = client._pendingLeaves.get(room) ?? [];
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
    });
    const list = client._pendingLeaves.get(room) ?? [];
    list.push(entry);
    client._pendingLeaves.set(room, list);
    sendOrReject(client, entry, { kind: { leave: { room } } });
  });
}

/**
 * Sends an envelope `Ping` ({@link Client#ping}) and resolves with the
 * round-trip time (frames.js, on the `Pong`).
 * @param {Client} client
 * @returns {Promise<number>}
 */
export function pingRequest(client) {
  if (!client._isOpen()) return Promise.reject(new ConnectionClosedError(1006, 'not connected', 'ping'));
  // Epoch microseconds, like the Rust client; strictly increasing so each ping is matched exactly.
  let clientTime = Date.now() * 1000;
  if (clientTime <= client._lastClientTime) clientTime = client._lastClientTime + 1;
  client._lastClientTime = clientTime;
  return new Promise((resolve, reject) => {
    const entry = Object.assign(
      pending(client, resolve, reject, 'ping', () => client._pendingPings.delete(clientTime)),
      { started: nowMs() },
    );
    client._pendingPings.set(clientTime, entry);
    sendOrReject(client, entry, { kind: { ping: { clientTime } } });
  });
}

/**
 * Rejects every pending request (auths, joins, leaves, pings).
 * @param {Client} client
 * @param {Error} e
 */
export function failPending(client, e) {
  for (const p of [...client._pendingAuths]) p.reject(e);
  for (const p of [...client._pendingJoins.values()]) p.reject(e);
  failPings(client, e);
  for (const list of [...client._pendingLeaves.values()]) for (const p of [...list]) p.reject(e);
  client._pendingLeaves.clear();
}

/**
 * Rejects the pending pings (pongs are not replayed by a resume).
 * @param {Client} client
 * @param {Error} e
 */
export function failPings(client, e) {
  for (const p of [...client._pendingPings.values()]) p.reject(e);
}
