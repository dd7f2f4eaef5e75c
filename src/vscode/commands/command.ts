import type { Container } from '../container.ts';
import type { CommandId } from '../commandIds.ts';
import type { Views } from '../views/views.ts';

/**
 * One command: its id and handler. Handlers take plain arguments when called programmatically
 * (tests, other extensions) and prompt only for what is missing; they throw, and register.ts
 * hands the error to the container's reporter.
 */
export interface CommandSpec {
  id: CommandId;
  run(container: Container, views: Views, ...args: unknown[]): unknown;
}
