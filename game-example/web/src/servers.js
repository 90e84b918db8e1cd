// Which servers the page plays on: the page's own by default, or the URL
// list of `?servers=` (the nodes of a cluster, for the SDK to fail over
// across). Pure: no DOM, no console; the caller warns about what it ignored.

/** The game socket of the server that served the page (`loc`: `location`). */
export function wsUrlFor(loc) {
  const ws = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${ws}//${loc.host}/ws`;
}

/**
 * `?servers=ws://h1/ws,ws://h2/ws` (repeatable or comma-separated): the
 * WebSocket URLs to play on, in failover order. Only `ws://` and `wss://`
 * URLs are taken (anything else could point the page's socket at a scheme
 * the browser refuses, or is a typo); the rest go to `ignored`. When none is
 * taken, `urls` is the page's own server.
 * @param {URLSearchParams} params
 * @param {{ protocol: string, host: string }} loc
 * @returns {{ urls: string[], ignored: string[] }}
 */
export function serversFromQuery(params, loc) {
  const asked = params
    .getAll('servers')
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const urls = [];
  const ignored = [];
  for (const s of asked) {
    const url = wsUrl(s);
    if (url === null) ignored.push(s);
    else if (!urls.includes(url)) urls.push(url);
  }
  return { urls: urls.length ? urls : [wsUrlFor(loc)], ignored };
}

/** `s` as a normalised ws:// or wss:// URL with a host, or null. */
function wsUrl(s) {
  let u;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if ((u.protocol !== 'ws:' && u.protocol !== 'wss:') || !u.host) return null;
  return u.href;
}
