/** The structured logger the SIP core writes to; pino's Logger satisfies it. */
export interface SipLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** A logger that drops everything, for when none is given. */
export const SILENT_SIP_LOGGER: SipLogger = {
  debug: () => {},
  warn: () => {},
};
