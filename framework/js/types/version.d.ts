/** The version of playhouse-client (package.json `version`). */
export declare const VERSION = "0.1.0";
/**
 * `Hello.client` of every connection: who the client is, and `redirect`:
 * it follows a cluster node's `Redirect` (docs/protocol.md §4.1, §4.3; a
 * node redirects only clients that say so).
 */
export declare const HELLO_CLIENT = "playhouse-js/0.1.0; redirect";
