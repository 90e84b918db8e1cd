// A small typed event emitter that works the same in browsers and Node.

/**
 * Calls listeners registered per event name. A listener that throws does not
 * stop the others or the client; the error is logged with `console.error`.
 *
 * @template {Record<string, any>} Events  event name → payload type
 */
export class Emitter {
  constructor() {
    /**
     * @private
     * @type {Map<keyof Events, Set<(payload: any) => void>>}
     */
    this._listeners = new Map();
  }

  /**
   * Adds a listener.
   * @template {keyof Events} K
   * @param {K} event
   * @param {(payload: Events[K]) => void} fn
   * @returns {() => void} removes this listener again
   */
  on(event, fn) {
    if (typeof fn !== 'function') throw new TypeError(`playhouse-client: listener for ${String(event)} must be a function`);
    let set = this._listeners.get(event);
    if (!set) this._listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  /**
   * Adds a listener that is removed after its first call.
   * @template {keyof Events} K
   * @param {K} event
   * @param {(payload: Events[K]) => void} fn
   * @returns {() => void} removes this listener again
   */
  once(event, fn) {
    /** @param {Events[K]} payload */
    const wrapped = (payload) => {
      this.off(event, wrapped);
      fn(payload);
    };
    return this.on(event, wrapped);
  }

  /**
   * Removes a listener added with `on` (or all listeners of `event` when
   * `fn` is omitted).
   * @template {keyof Events} K
   * @param {K} event
   * @param {(payload: Events[K]) => void} [fn]
   */
  off(event, fn) {
    if (!fn) {
      this._listeners.delete(event);
      return;
    }
    this._listeners.get(event)?.delete(fn);
  }

  /**
   * @protected
   * @template {keyof Events} K
   * @param {K} event
   * @param {Events[K]} payload
   */
  emit(event, payload) {
    const set = this._listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(payload);
      } catch (e) {
        console.error(`playhouse-client: a '${String(event)}' listener threw`, e);
      }
    }
  }
}
