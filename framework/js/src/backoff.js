// Reconnect policy: which closes are worth retrying, and how long to wait.

/**
 * Reconnect settings (the `reconnect` option of {@link Client.connect}).
 * @typedef {object} ReconnectOptions
 * @property {number} [baseMs=250]   delay scale of the first retry
 * @property {number} [capMs=5000]   no retry waits longer than this
 * @property {number} [maxTries=8]   attempts before giving up (then `close`)
 * @property {() => number} [random] jitter source in [0, 1); default `Math.random`
 * @property {boolean} [resume=true] resume the session on reconnect (`Resume` with the
 *   latest resume token and the highest reliable seq received): the server keeps the
 *   seats and replays the missed reliable messages. `false`: every reconnect starts a
 *   new session
 * @property {boolean} [rejoin=true] when the reconnect ends up on a new session (resume
 *   refused or off), rejoin the rooms (the same room id; when it is gone, `joinOrCreate`
 *   of the same room type). `false`: forget them, the app joins again itself on
 *   `reconnected`
 */

/**
 * Reconnect settings with every field filled in.
 * @typedef {object} ReconnectPolicy
 * @property {number} baseMs
 * @property {number} capMs
 * @property {number} maxTries
 * @property {() => number} random
 * @property {boolean} resume
 * @property {boolean} rejoin
 */

/** Defaults of {@link ReconnectOptions}. */
export const DEFAULT_RECONNECT = Object.freeze({ baseMs: 250, capMs: 5000, maxTries: 8 });

/**
 * Close codes after which the client does NOT reconnect:
 *
 * - 1000 normal close (our own `close()`, echoed by the server)
 * - 1002 protocol violation, 1003 unsupported data (a text frame),
 *   1007 invalid payload, 1009 message too big: this client sent something
 *   the server cannot take; doing it again would fail the same way
 * - 1008 policy violation (idle timeout today; rate limits and expired tokens later)
 * - 4001 unauthorized, 4003 forbidden (reserved for auth): retrying cannot fix them
 * - 4005 kicked by the room
 * - 4009 the session was resumed on another connection (another tab or
 *   device with the same resume token): reconnecting would take it back, and
 *   the other side would take it back again
 *
 * Everything else is retried: 1006 (connection dropped with no close frame:
 * server killed or restarted, network lost, 4008 "too slow" as usually seen),
 * 1001 going away, 1011 room crashed, 1012/1013 restart/try later, 4008, …
 */
export const FATAL_CLOSE_CODES = Object.freeze([1000, 1002, 1003, 1007, 1008, 1009, 4001, 4003, 4005, 4009]);

/** Close code: the session was resumed on another connection (see {@link FATAL_CLOSE_CODES}). */
export const CLOSE_REPLACED = 4009;

/**
 * Whether a close with this code ends the client for good (see
 * {@link FATAL_CLOSE_CODES}).
 *
 * @param {number} code
 * @returns {boolean}
 */
export function isFatalClose(code) {
  return FATAL_CLOSE_CODES.includes(code);
}

/**
 * The delay before a reconnect attempt: exponential backoff with full jitter,
 * `random() × min(capMs, baseMs × 2^retry)`, i.e. uniformly in
 * `[0, min(capMs, baseMs × 2^retry))`. Pure: pass `random` to make it
 * deterministic.
 *
 * @param {number} retry  how many attempts have already failed (0 before the first)
 * @param {{ baseMs: number, capMs: number }} policy
 * @param {() => number} [random=Math.random] a number in [0, 1)
 * @returns {number} milliseconds, an integer
 */
export function backoffDelay(retry, policy, random = Math.random) {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}

/**
 * Normalises the `reconnect` option: `undefined`/`false` → null (disabled),
 * `true` → defaults, an object → defaults overridden by its fields.
 *
 * @param {ReconnectOptions | boolean | undefined | null} opt
 * @returns {ReconnectPolicy | null}
 * @throws {TypeError} on negative or non-finite numbers
 */
export function reconnectPolicy(opt) {
  if (opt === undefined || opt === null || opt === false) return null;
  const o = opt === true ? {} : opt;
  const policy = {
    baseMs: o.baseMs ?? DEFAULT_RECONNECT.baseMs,
    capMs: o.capMs ?? DEFAULT_RECONNECT.capMs,
    maxTries: o.maxTries ?? DEFAULT_RECONNECT.maxTries,
    random: o.random ?? Math.random,
    resume: o.resume ?? true,
    rejoin: o.rejoin ?? true,
  };
  for (const k of /** @type {const} */ (['baseMs', 'capMs', 'maxTries'])) {
    if (typeof policy[k] !== 'number' || !Number.isFinite(policy[k]) || policy[k] < 0) {
      throw new TypeError(`playhouse-client: reconnect.${k} must be a finite number >= 0, got ${String(policy[k])}`);
    }
  }
  if (typeof policy.random !== 'function') throw new TypeError('playhouse-client: reconnect.random must be a function');
  return policy;
}
