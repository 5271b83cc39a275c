/** Live: the server-sent events stream of queue counts and presence (SPEC §15), one LISTEN connection per instance. */
export { LiveHub } from './live-hub';
export type { LiveClient, LiveDeps } from './live-hub';
