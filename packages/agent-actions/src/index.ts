/**
 * The agent desktop's rules that the server and the web phone both apply: the action grammar of
 * buttons and scripts (`fn`), the redirect policy, form schemas and their validation, and the
 * numbers `makeCall` dials.
 */
export * from './agent-action-error.js';
export * from './actions.js';
export * from './fn-parser.js';
export * from './redirect-policy.js';
export * from './form-schema.js';
export * from './lead-numbers.js';
