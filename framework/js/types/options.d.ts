/**
 * Checks join options: a flat object whose values become strings
 * (`map<string, string>` on the wire).
 * @param {unknown} options
 * @returns {Record<string, string>}
 */
export declare function joinOptions(options: unknown): Record<string, string>;
/**
 * Checks one server URL.
 * @param {unknown} url
 * @returns {string}
 */
export declare function checkUrl(url: unknown): string;
/**
 * The server URLs, in order: `url` (or its elements), then `options.urls`,
 * without repeats.
 * @param {string | string[]} url
 * @param {unknown} more  `options.urls`
 * @returns {string[]}
 */
export declare function urlList(url: string | string[], more: unknown): string[];
