// Channels (docs/protocol.md §4.4): pub/sub beyond rooms. Subscribe (with
// recovery from the last position seen), unsubscribe, publish; the
// `publication`, `presence` and `channelError` events; the last (offset,
// epoch) of each concrete channel; and, after a reconnect that began a new
// session (or a redirect that moved the client to another node), every
// subscription made again with recovery. Mirrors
// framework/client/src/channels.rs.
//
// The subscriptions belong to the session: a resumed session keeps them on
// the server, and what was published meanwhile is replayed like any reliable
// message (frames.js counts the channel messages' seqs with the others).
// Only a new session needs them made again.

import { ChannelError, ConnectionClosedError, TimeoutError } from './errors.js';

/** @typedef {import('./types.js').Emit} Emit */
/** @typedef {import('./types.js').Publication} Publication */
/** @typedef {import('./types.js').Subscribed} Subscribed */
/** @typedef {import('./types.js').ChannelPosition} ChannelPosition */

/**
 * Options of {@link import('./client.js').Client#subscribe}.
 * @typedef {object} SubscribeOptions
 * @property {boolean} [recover]  recover from the last position this client saw on
 *   the channel ({@link import('./client.js').Client#channelPosition}): `Subscribed.missed`
 *   then holds what was published since, and `recovered` says whether that is all of it.
 *   Without a known position it is a plain subscribe
 * @property {ChannelPosition} [from]  recover from this position instead (one kept
 *   elsewhere, e.g. across page loads; implies `recover`), like the Rust client's `subscribe_from`
 */

/**
 * What the channels need from the rest of the client.
 * @typedef {object} ChannelIo
 * @property {number} timeoutMs
 * @property {(msg: object) => boolean} send  sends a ClientMsg; false when not connected
 * @property {() => boolean} isOpen  whether requests may go out now
 * @property {() => string} status  the link's status (`open` once a reconnect has settled)
 * @property {Emit} emit
 */

/**
 * A subscription this client holds (or is setting up).
 * @typedef {object} Subscription
 * @property {string} channel
 * @property {boolean} again  to be made again on the current session (a new session
 *   began since it was made): sent by {@link Channels#flush}
 * @property {number} request  the request of its subscribe in flight, or 0
 */

/**
 * A subscribe waiting for its `Subscribed` or `ChannelError`.
 * @typedef {object} PendingSubscribe
 * @property {string} channel
 * @property {boolean} auto  the SDK's own re-subscribe after a new session (no promise)
 * @property {boolean} recover  recover from the last position seen
 * @property {ChannelPosition} [from]  ... or from this one
 * @property {((s: Subscribed) => void) | null} resolve
 * @property {((e: Error) => void) | null} reject
 * @property {ReturnType<typeof setTimeout> | null} timer
 */

/** Whether `name` is a pattern (a `*` segment): no positions, no recovery. */
const isPattern = (/** @type {string} */ name) => name.split('.').includes('*');

/**
 * Whether the subscription `sub` (a name or pattern) covers the concrete channel `name`.
 * @param {string} sub
 * @param {string} name
 */
function covers(sub, name) {
  if (sub === name) return true;
  const a = sub.split('.');
  const b = name.split('.');
  return a.length === b.length && a.every((seg, i) => seg === '*' || seg === b[i]);
}

/**
 * A uint64 of the envelope as a number (the codecs give numbers; a bigint or
 * a protobufjs Long is converted too).
 * @param {unknown} v
 * @returns {number}
 */
function toNumber(v) {
  if (typeof v === 'number') return Number.isFinite(v) ? v : 0;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object' && 'toNumber' in v && typeof v.toNumber === 'function') return Number(v.toNumber());
  return 0;
}

/**
 * Bytes as a Uint8Array (a Node Buffer is one already; anything else is empty).
 * @param {unknown} v
 * @returns {Uint8Array}
 */
function toBytes(v) {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return new Uint8Array(0);
}

/**
 * A `Publication` envelope as the event gives it.
 * @param {any} p
 * @returns {Publication}
 */
function publication(p) {
  return {
    channel: String(p?.channel ?? ''),
    offset: toNumber(p?.offset),
    epoch: String(p?.epoch ?? ''),
    payload: toBytes(p?.payload),
    publisher: String(p?.publisher ?? ''),
  };
}

/**
 * A `Subscribed` envelope as {@link import('./client.js').Client#subscribe} resolves with it.
 * @param {any} m
 * @returns {Subscribed}
 */
function subscribed(m) {
  return {
    request: toNumber(m.request),
    channel: String(m.channel ?? ''),
    offset: toNumber(m.offset),
    epoch: String(m.epoch ?? ''),
    recovered: m.recovered === true,
    missed: (Array.isArray(m.missed) ? m.missed : []).map(publication),
    presence: (Array.isArray(m.presence) ? m.presence : []).map(String),
  };
}

export class Channels {
  /** @param {ChannelIo} io */
  constructor(io) {
    /** @private */
    this._io = io;
    /** The subscriptions, by the name or pattern subscribed. @private @type {Map<string, Subscription>} */
    this._subs = new Map();
    /** Subscribes in flight, by request. @private @type {Map<number, PendingSubscribe>} */
    this._pending = new Map();
    /** The last position per concrete channel. @private @type {Map<string, ChannelPosition>} */
    this._positions = new Map();
    /** Unsubscribes that could not go out (while reconnecting): sent once connected. @private @type {Set<string>} */
    this._drops = new Set();
    /** @private */
    this._nextRequest = 1;
  }

  /** @private */
  _request() {
    const r = this._nextRequest;
    this._nextRequest = (this._nextRequest % 0xffffffff) + 1;
    return r;
  }

  /**
   * The names and patterns subscribed (confirmed by a `Subscribed`), in the order first confirmed.
   * @returns {string[]}
   */
  list() {
    return [...this._subs.keys()];
  }

  /**
   * The last position seen on a concrete channel, or null.
   * @param {string} channel
   * @returns {ChannelPosition | null}
   */
  position(channel) {
    const p = this._positions.get(channel);
    return p ? { ...p } : null;
  }

  /**
   * Keeps the position a publication or a `Subscribed` tells of (like the
   * Rust client: a new epoch replaces the position, else only a later offset).
   * @private
   * @param {string} channel
   * @param {number} offset
   * @param {string} epoch
   */
  _note(channel, offset, epoch) {
    if (!channel || isPattern(channel) || !epoch) return;
    const p = this._positions.get(channel);
    if (!p || p.epoch !== epoch || offset > p.offset) this._positions.set(channel, { offset, epoch });
  }

  /**
   * The `Subscribe` for `channel`, recovering from its last position when asked and known.
   * @private
   * @param {number} request
   * @param {string} channel
   * @param {boolean} recover
   * @param {ChannelPosition} [from]  an explicit position to recover from
   */
  _subscribeMsg(request, channel, recover, from) {
    const pos = from ?? (recover && !isPattern(channel) ? this._positions.get(channel) : undefined);
    return {
      kind: {
        subscribe: pos
          ? { request, channel, recover: true, offset: pos.offset, epoch: pos.epoch }
          : { request, channel, recover: false, offset: 0, epoch: '' },
      },
    };
  }

  /**
   * Subscribes to `channel`; resolves with the `Subscribed` answer.
   * @param {string} channel
   * @param {SubscribeOptions} [options]
   * @returns {Promise<Subscribed>}
   */
  subscribe(channel, options = {}) {
    if (typeof channel !== 'string' || !channel) return Promise.reject(new TypeError('playhouse-client: subscribe: channel must be a non-empty string'));
    const from = options.from;
    if (from !== undefined && (!from || !Number.isSafeInteger(from.offset) || from.offset < 0 || typeof from.epoch !== 'string')) {
      return Promise.reject(new TypeError('playhouse-client: subscribe: from must be { offset: integer >= 0, epoch: string }'));
    }
    if (!this._io.isOpen()) return Promise.reject(new ConnectionClosedError(1006, 'not connected', `subscribe ${channel}`));
    const request = this._request();
    return new Promise((resolve, reject) => {
      /** @type {PendingSubscribe} */
      const entry = {
        channel,
        auto: false,
        recover: options.recover === true,
        from: from ? { offset: from.offset, epoch: from.epoch } : undefined,
        resolve,
        reject,
        timer: null,
      };
      entry.timer = setTimeout(() => {
        this._settle(request);
        reject(new TimeoutError(`playhouse-client: subscribe ${channel}: no answer within ${this._io.timeoutMs} ms`));
      }, this._io.timeoutMs);
      this._pending.set(request, entry);
      try {
        this._io.send(this._subscribeMsg(request, channel, entry.recover, entry.from));
      } catch (e) {
        this._settle(request);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /**
   * Ends the subscription to `channel` (the name or pattern subscribed) and
   * forgets its position. A subscribe of it still in flight rejects.
   * @param {string} channel
   * @returns {boolean} whether the `Unsubscribe` was sent now (false while not connected:
   *   the subscription is forgotten all the same; the `Unsubscribe` goes out after a resume,
   *   and a new session does not make it again)
   */
  unsubscribe(channel) {
    this._subs.delete(channel);
    this._positions.delete(channel);
    for (const [request, p] of [...this._pending]) {
      if (p.channel !== channel) continue;
      this._settle(request);
      p.reject?.(new Error(`playhouse-client: subscribe ${channel}: unsubscribed before the answer`));
    }
    if (this._io.isOpen() && this._io.send({ kind: { unsubscribe: { channel } } })) {
      this._drops.delete(channel);
      return true;
    }
    this._drops.add(channel);
    return false;
  }

  /**
   * Publishes `payload` on the concrete channel `channel`. Success has no
   * answer; a refusal comes later as a `channelError` event with the
   * request id returned here.
   * @param {string} channel
   * @param {Uint8Array} payload
   * @returns {number} the request id
   * @throws {TypeError} on a bad channel or payload; {@link ConnectionClosedError} when not connected
   */
  publish(channel, payload) {
    if (typeof channel !== 'string' || !channel) throw new TypeError('playhouse-client: publish: channel must be a non-empty string');
    if (!(payload instanceof Uint8Array)) throw new TypeError('playhouse-client: publish: payload must be a Uint8Array');
    if (!this._io.isOpen()) throw new ConnectionClosedError(1006, 'not connected', `publish ${channel}`);
    const request = this._request();
    if (!this._io.send({ kind: { publish: { request, channel, payload } } })) {
      throw new ConnectionClosedError(1006, 'not connected', `publish ${channel}`);
    }
    return request;
  }

  /**
   * Drops a pending subscribe (its timer too) and returns it.
   * @private
   * @param {number} request
   * @returns {PendingSubscribe | undefined}
   */
  _settle(request) {
    const p = this._pending.get(request);
    if (!p) return undefined;
    this._pending.delete(request);
    if (p.timer) clearTimeout(p.timer);
    const sub = this._subs.get(p.channel);
    if (sub && sub.request === request) sub.request = 0;
    return p;
  }

  /**
   * A `Subscribed` arrived.
   * @param {any} m
   */
  onSubscribed(m) {
    const s = subscribed(m);
    const p = this._settle(s.request);
    if (!p) return; // timed out, or unsubscribed meanwhile
    for (const pub of s.missed) this._note(pub.channel, pub.offset, pub.epoch);
    this._note(s.channel, s.offset, s.epoch);
    const sub = this._subs.get(p.channel);
    if (sub) sub.again = false;
    else this._subs.set(p.channel, { channel: p.channel, again: false, request: 0 });
    if (p.auto) {
      // The SDK's own re-subscribe: what was missed comes as ordinary publications.
      for (const pub of s.missed) this._io.emit('publication', pub);
      this._io.emit('resubscribed', {
        channel: s.channel || p.channel,
        recovered: s.recovered,
        offset: s.offset,
        epoch: s.epoch,
        missed: s.missed.length,
        presence: s.presence,
      });
      return;
    }
    p.resolve?.(s);
  }

  /**
   * A `Publication` arrived.
   * @param {any} m
   */
  onPublication(m) {
    const pub = publication(m);
    // Like frames of rooms left: what was on its way when the app unsubscribed is not emitted.
    if (!this._wants(pub.channel)) return;
    this._note(pub.channel, pub.offset, pub.epoch);
    this._io.emit('publication', pub);
  }

  /**
   * Whether a subscription (or a subscribe in flight) covers the concrete channel `name`.
   * @private
   * @param {string} name
   */
  _wants(name) {
    for (const sub of this._subs.keys()) if (covers(sub, name)) return true;
    for (const p of this._pending.values()) if (covers(p.channel, name)) return true;
    return false;
  }

  /**
   * A `PresenceChange` arrived.
   * @param {any} m
   */
  onPresence(m) {
    if (!this._subs.has(String(m.channel ?? ''))) return;
    this._io.emit('presence', {
      channel: String(m.channel ?? ''),
      joined: (Array.isArray(m.joined) ? m.joined : []).map(String),
      left: (Array.isArray(m.left) ? m.left : []).map(String),
    });
  }

  /**
   * A `ChannelError` arrived: one answering a subscribe of the app rejects
   * it; every other (a publish refused, the SDK's re-subscribe refused) is
   * the `channelError` event. A refused subscribe is no subscription.
   * @param {any} m
   */
  onChannelError(m) {
    const e = new ChannelError({
      request: toNumber(m.request),
      channel: String(m.channel ?? ''),
      code: toNumber(m.code),
      reason: String(m.reason ?? ''),
    });
    const p = this._settle(e.request);
    if (p) {
      const sub = this._subs.get(p.channel);
      if (p.auto && e.code === 409 && sub) {
        sub.again = false; // the session has it already
        return;
      }
      if (sub && sub.request === 0 && (p.auto || sub.again)) this._subs.delete(p.channel);
      if (!p.auto) {
        p.reject?.(e);
        return;
      }
    }
    this._io.emit('channelError', e);
  }

  /**
   * A new session began (a reconnect that could not resume, or a redirect
   * to another node): every subscription is to be made again, and the
   * subscribes in flight were lost with the old session (the app's are
   * sent again, their promises kept). Sends them now if it can
   * ({@link Channels#flush}).
   */
  newSession() {
    this._drops.clear(); // the new session has none of the old subscriptions
    const lost = [...this._pending];
    for (const [request] of lost) this._settle(request);
    for (const sub of this._subs.values()) sub.again = true;
    for (const [, p] of lost) if (!p.auto) this._again(p);
    this.flush();
  }

  /**
   * Sends again the subscribe of an app's request lost with its session.
   * @private
   * @param {PendingSubscribe} p
   */
  _again(p) {
    const request = this._request();
    /** @type {PendingSubscribe} */
    const entry = { ...p, timer: null };
    entry.timer = setTimeout(() => {
      this._settle(request);
      p.reject?.(new TimeoutError(`playhouse-client: subscribe ${p.channel}: no answer within ${this._io.timeoutMs} ms`));
    }, this._io.timeoutMs);
    this._pending.set(request, entry);
    if (!this._io.isOpen() || !this._io.send(this._subscribeMsg(request, p.channel, p.recover, p.from))) {
      // Not connected after all: it goes out with the others at the next flush.
      this._settle(request);
      p.reject?.(new ConnectionClosedError(1006, 'not connected', `subscribe ${p.channel}`));
    }
  }

  /**
   * Sends the unsubscribes that waited, and makes again, with recovery
   * from the last position, every subscription a new session lost (when
   * connected; otherwise at the next call). Never while a reconnect is
   * settling but right after `newSession`: a `Resume` must go first.
   */
  flush() {
    if (!this._io.isOpen()) return;
    for (const channel of [...this._drops]) {
      if (!this._io.send({ kind: { unsubscribe: { channel } } })) return;
      this._drops.delete(channel);
    }
    for (const sub of this._subs.values()) {
      if (!sub.again || sub.request) continue;
      const request = this._request();
      sub.request = request;
      this._pending.set(request, { channel: sub.channel, auto: true, recover: true, resolve: null, reject: null, timer: null });
      if (!this._io.send(this._subscribeMsg(request, sub.channel, true))) {
        this._settle(request);
        return;
      }
    }
  }

  /**
   * Every client event passes here first (client.js): a new session makes
   * the subscriptions again, a connection ready for requests sends what
   * waited, the end of the client ends them.
   * @param {string} event
   * @param {any} payload
   */
  onClientEvent(event, payload) {
    if (event === 'newSession' || event === 'redirected') this.newSession();
    else if (event === 'reconnected' || (event === 'authenticated' && this._io.status() === 'open')) this.flush();
    else if (event === 'close') this.close(new ConnectionClosedError(payload?.code ?? 1006, payload?.reason ?? '', 'subscribe'));
  }

  /**
   * The client is closed for good: the subscribes in flight reject, the
   * subscriptions end (the positions stay readable).
   * @param {Error} e
   */
  close(e) {
    for (const [request, p] of [...this._pending]) {
      this._settle(request);
      p.reject?.(e);
    }
    this._subs.clear();
  }
}
