// Simulated time for unit tests of timer-driven behaviour (acks, backoff,
// refreshes, timeouts): node:test's mock timers instead of real sleeps, so a
// test neither races the machine's load nor waits for real.
//
// With the mock on, every setTimeout/setInterval (the client's, the fake
// WebSocket's, the helpers') fires only as the test moves the clock, and
// Date.now() follows the clock.

/**
 * @typedef {object} Clock
 * @property {(ms: number) => Promise<void>} advance  moves time on by `ms`, 1 ms at a time,
 *   letting promise chains run between steps (a timer that resolves a promise whose
 *   continuation sets the next timer fires them both)
 * @property {<T>(promise: Promise<T>, maxMs?: number) => Promise<T>} run  moves time on until
 *   `promise` settles (at most `maxMs`, default 30 000 simulated ms) and returns its outcome
 */

/**
 * Turns on the mock clock for test `t` (it is turned off when the test ends).
 * @param {import('node:test').TestContext} t
 * @returns {Clock}
 */
export function mockClock(t) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: Date.UTC(2030, 0, 1) });
  // setImmediate stays real: it lets every pending promise continuation run.
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  /** @param {number} ms */
  const advance = async (ms) => {
    await settle();
    for (let i = 0; i < ms; i++) {
      t.mock.timers.tick(1);
      await settle();
    }
  };
  return {
    advance,
    async run(promise, maxMs = 30_000) {
      let done = false;
      const watched = promise.then(
        (v) => ((done = true), v),
        (e) => {
          done = true;
          throw e;
        },
      );
      watched.catch(() => {}); // reported through the return below
      await settle();
      for (let i = 0; i < maxMs && !done; i++) {
        t.mock.timers.tick(1);
        await settle();
      }
      if (!done) throw new Error(`still pending after ${maxMs} simulated ms`);
      return watched;
    },
  };
}
