/** Why an action, a `fn` or a form was refused. */
export type AgentActionErrorCode =
  /** `fn` is not `name` or `name(param, ...)`. */
  | 'SYNTAX'
  /** No action by that name. */
  | 'UNKNOWN_ACTION'
  /** The action exists but its parameters do not fit it. */
  | 'BAD_PARAMS'
  /** `eval`: known, and refused on purpose. */
  | 'NOT_IMPLEMENTED'
  /** A redirect to a scheme or origin the domain does not allow. */
  | 'REDIRECT_REFUSED'
  /** A form schema that cannot be rendered or validated. */
  | 'BAD_SCHEMA';

/** An action, `fn` or form schema refused; `message` is one line fit for an admin or an agent. */
export class AgentActionError extends Error {
  override readonly name = 'AgentActionError';
  constructor(
    readonly code: AgentActionErrorCode,
    message: string,
  ) {
    super(message);
  }
}
