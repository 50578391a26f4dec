/**
 * The one clock shape: a function that tells the current instant. Time is passed in, never read: only a
 * composition root (an app's main.ts, or the runtime it builds) makes a clock from the system's, and tests
 * pass one they control.
 */
export type Clock = () => Date;
