/**
 * Applies `delta` to `baseline` and returns the target (a new array; the
 * inputs are not changed). A delta that reads past either input, moves the
 * cursor before the baseline's start, or ends before or after the target's
 * announced length is refused, never half applied.
 *
 * @param {Uint8Array} baseline  the payload of the state the delta is against
 * @param {Uint8Array} delta     the payload of a `State` with `baseline` != 0
 * @param {number} maxLen        the longest target taken (checked before allocating it)
 * @returns {Uint8Array}
 * @throws {DeltaError} when the delta is malformed (`kind` says how)
 */
export declare function applyDelta(baseline: Uint8Array, delta: Uint8Array, maxLen: number): Uint8Array;
