/**
 * Calls listeners registered per event name. A listener that throws does not
 * stop the others or the client; the error is logged with `console.error`.
 *
 * @template {Record<string, any>} Events  event name → payload type
 */
export declare class Emitter<Events extends Record<string, any>> {
    /**
     * @private
     * @type {Map<keyof Events, Set<(payload: any) => void>>}
     */
    private _listeners;
    constructor();
    /**
     * Adds a listener.
     * @template {keyof Events} K
     * @param {K} event
     * @param {(payload: Events[K]) => void} fn
     * @returns {() => void} removes this listener again
     */
    on<K extends keyof Events>(event: K, fn: (payload: Events[K]) => void): () => void;
    /**
     * Adds a listener that is removed after its first call.
     * @template {keyof Events} K
     * @param {K} event
     * @param {(payload: Events[K]) => void} fn
     * @returns {() => void} removes this listener again
     */
    once<K extends keyof Events>(event: K, fn: (payload: Events[K]) => void): () => void;
    /**
     * Removes a listener added with `on` (or all listeners of `event` when
     * `fn` is omitted).
     * @template {keyof Events} K
     * @param {K} event
     * @param {(payload: Events[K]) => void} [fn]
     */
    off<K extends keyof Events>(event: K, fn?: (payload: Events[K]) => void): void;
    /**
     * @protected
     * @template {keyof Events} K
     * @param {K} event
     * @param {Events[K]} payload
     */
    protected emit<K extends keyof Events>(event: K, payload: Events[K]): void;
}
