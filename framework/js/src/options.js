// Checks of what the game passes in: server URLs and join options.

/**
 * Checks join options: a flat object whose values become strings
 * (`map<string, string>` on the wire).
 * @param {unknown} options
 * @returns {Record<string, string>}
 */
export function joinOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('playhouse-client: join options must be an object of strings, e.g. { name: "ann" }');
  }
  /** @type {Record<string, string>} */
  const out = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

/**
 * Checks one server URL.
 * @param {unknown} url
 * @returns {string}
 */
export function checkUrl(url) {
  let parsed;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new TypeError(`playhouse-client: invalid URL ${JSON.stringify(url)}`);
  }
  if (typeof url !== 'string' || (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')) {
    throw new TypeError(`playhouse-client: the URL must start with ws:// or wss://, got ${JSON.stringify(url)}`);
  }
  return url;
}

/**
 * The server URLs, in order: `url` (or its elements), then `options.urls`,
 * without repeats.
 * @param {string | string[]} url
 * @param {unknown} more  `options.urls`
 * @returns {string[]}
 */
export function urlList(url, more) {
  if (more !== undefined && !Array.isArray(more)) {
    throw new TypeError('playhouse-client: options.urls must be an array of ws:// or wss:// URLs');
  }
  /** @type {string[]} */
  const out = [];
  for (const u of [...(Array.isArray(url) ? url : [url]), ...(more ?? [])]) {
    const checked = checkUrl(u);
    if (!out.includes(checked)) out.push(checked);
  }
  if (!out.length) throw new TypeError('playhouse-client: at least one server URL is needed');
  return out;
}
