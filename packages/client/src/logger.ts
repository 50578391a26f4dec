/**
 * Where the client tells what it could not do (events keyfence refused or that could not be delivered,
 * keyfence unreachable, the service token refused). Messages never hold a key or a token.
 * @defaultValue console
 */
export interface KeyfenceLogger {
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** console.warn / console.error, with the details as a second argument. */
export const consoleLogger: KeyfenceLogger = {
  warn: (message, details) =>
    details === undefined ? console.warn(message) : console.warn(message, details),
  error: (message, details) =>
    details === undefined ? console.error(message) : console.error(message, details),
};
