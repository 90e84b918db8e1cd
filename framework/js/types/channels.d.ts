export type Emit = import('./types.js').Emit;
export type Publication = import('./types.js').Publication;
export type Subscribed = import('./types.js').Subscribed;
export type ChannelPosition = import('./types.js').ChannelPosition;
export type SubscribeOptions = {
    /**
     * recover from the last position this client saw on
     * the channel ({@link import('./client.js').Client#channelPosition}): `Subscribed.missed`
     * then holds what was published since, and `recovered` says whether that is all of it.
     * Without a known position it is a plain subscribe
     */
    recover?: boolean;
    /**
     * recover from this position instead (one kept
     * elsewhere, e.g. across page loads; implies `recover`), like the Rust client's `subscribe_from`
     */
    from?: ChannelPosition;
};
export type ChannelIo = {
    timeoutMs: number;
    /**
     * sends a ClientMsg; false when not connected
     */
    send: (msg: object) => boolean;
    /**
     * whether requests may go out now
     */
    isOpen: () => boolean;
    /**
     * the link's status (`open` once a reconnect has settled)
     */
    status: () => string;
    emit: Emit;
};
export type Subscription = {
    channel: string;
    /**
     * to be made again on the current session (a new session
     * began since it was made): sent by {@link Channels#flush}
     */
    again: boolean;
    /**
     * the request of its subscribe in flight, or 0
     */
    request: number;
};
export type PendingSubscribe = {
    channel: string;
    /**
     * the SDK's own re-subscribe after a new session (no promise)
     */
    auto: boolean;
    /**
     * recover from the last position seen
     */
    recover: boolean;
    /**
     * ... or from this one
     */
    from?: ChannelPosition;
    resolve: ((s: Subscribed) => void) | null;
    reject: ((e: Error) => void) | null;
    timer: ReturnType<typeof setTimeout> | null;
};
export declare class Channels {
    /** @private */
    private _io;
    /** The subscriptions, by the name or pattern subscribed. @private @type {Map<string, Subscription>} */
    private _subs;
    /** Subscribes in flight, by request. @private @type {Map<number, PendingSubscribe>} */
    private _pending;
    /** The last position per concrete channel. @private @type {Map<string, ChannelPosition>} */
    private _positions;
    /** Unsubscribes that could not go out (while reconnecting): sent once connected. @private @type {Set<string>} */
    private _drops;
    /** @private */
    private _nextRequest;
    /** @param {ChannelIo} io */
    constructor(io: ChannelIo);
    /** @private */
    private _request;
    /**
     * The names and patterns subscribed (confirmed by a `Subscribed`), in the order first confirmed.
     * @returns {string[]}
     */
    list(): string[];
    /**
     * The last position seen on a concrete channel, or null.
     * @param {string} channel
     * @returns {ChannelPosition | null}
     */
    position(channel: string): ChannelPosition | null;
    /**
     * Keeps the position a publication or a `Subscribed` tells of (like the
     * Rust client: a new epoch replaces the position, else only a later offset).
     * @private
     * @param {string} channel
     * @param {number} offset
     * @param {string} epoch
     */
    private _note;
    /**
     * The `Subscribe` for `channel`, recovering from its last position when asked and known.
     * @private
     * @param {number} request
     * @param {string} channel
     * @param {boolean} recover
     * @param {ChannelPosition} [from]  an explicit position to recover from
     */
    private _subscribeMsg;
    /**
     * Subscribes to `channel`; resolves with the `Subscribed` answer.
     * @param {string} channel
     * @param {SubscribeOptions} [options]
     * @returns {Promise<Subscribed>}
     */
    subscribe(channel: string, options?: SubscribeOptions): Promise<Subscribed>;
    /**
     * Ends the subscription to `channel` (the name or pattern subscribed) and
     * forgets its position. A subscribe of it still in flight rejects.
     * @param {string} channel
     * @returns {boolean} whether the `Unsubscribe` was sent now (false while not connected:
     *   the subscription is forgotten all the same; the `Unsubscribe` goes out after a resume,
     *   and a new session does not make it again)
     */
    unsubscribe(channel: string): boolean;
    /**
     * Publishes `payload` on the concrete channel `channel`. Success has no
     * answer; a refusal comes later as a `channelError` event with the
     * request id returned here.
     * @param {string} channel
     * @param {Uint8Array} payload
     * @returns {number} the request id
     * @throws {TypeError} on a bad channel or payload; {@link ConnectionClosedError} when not connected
     */
    publish(channel: string, payload: Uint8Array): number;
    /**
     * Drops a pending subscribe (its timer too) and returns it.
     * @private
     * @param {number} request
     * @returns {PendingSubscribe | undefined}
     */
    private _settle;
    /**
     * A `Subscribed` arrived.
     * @param {any} m
     */
    onSubscribed(m: any): void;
    /**
     * A `Publication` arrived.
     * @param {any} m
     */
    onPublication(m: any): void;
    /**
     * Whether a subscription (or a subscribe in flight) covers the concrete channel `name`.
     * @private
     * @param {string} name
     */
    private _wants;
    /**
     * A `PresenceChange` arrived.
     * @param {any} m
     */
    onPresence(m: any): void;
    /**
     * A `ChannelError` arrived: one answering a subscribe of the app rejects
     * it; every other (a publish refused, the SDK's re-subscribe refused) is
     * the `channelError` event. A refused subscribe is no subscription.
     * @param {any} m
     */
    onChannelError(m: any): void;
    /**
     * A new session began (a reconnect that could not resume, or a redirect
     * to another node): every subscription is to be made again, and the
     * subscribes in flight were lost with the old session (the app's are
     * sent again, their promises kept). Sends them now if it can
     * ({@link Channels#flush}).
     */
    newSession(): void;
    /**
     * Sends again the subscribe of an app's request lost with its session.
     * @private
     * @param {PendingSubscribe} p
     */
    private _again;
    /**
     * Sends the unsubscribes that waited, and makes again, with recovery
     * from the last position, every subscription a new session lost (when
     * connected; otherwise at the next call). Never while a reconnect is
     * settling but right after `newSession`: a `Resume` must go first.
     */
    flush(): void;
    /**
     * Every client event passes here first (client.js): a new session makes
     * the subscriptions again, a connection ready for requests sends what
     * waited, the end of the client ends them.
     * @param {string} event
     * @param {any} payload
     */
    onClientEvent(event: string, payload: any): void;
    /**
     * The client is closed for good: the subscribes in flight reject, the
     * subscriptions end (the positions stay readable).
     * @param {Error} e
     */
    close(e: Error): void;
}
