// Records for the mini-app's developers in the host's log
// (`[capabilities.log]`); users never see them.

import { write } from 'plaza:host/log@0.1.1';

export type { Level } from 'plaza:host/log@0.1.1';

/** Fine-grained tracing. */
export function trace(message: string): void {
  write('trace', message);
}

/** Details for debugging. */
export function debug(message: string): void {
  write('debug', message);
}

/** Normal operation. */
export function info(message: string): void {
  write('info', message);
}

/** Something unexpected that the mini-app handled. */
export function warn(message: string): void {
  write('warn', message);
}

/** Something failed. */
export function error(message: string): void {
  write('error', message);
}
