/** Public policy pages. */
export { policyPages } from './policy.routes';
