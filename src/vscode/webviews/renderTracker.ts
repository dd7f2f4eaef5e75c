// No `vscode` import: the presenters that hold it run (and are tested) on plain Node.
import { Emitter, nextMatching } from '../../core/events.ts';

/** The two messages a page posts about itself. */
export type PageReport<Report> = { type: 'rendered'; report: Report } | { type: 'error'; message: string };

/**
 * What a page says about its own drawing: the `rendered` report it posts after each draw, which
 * tests await, and the `error`s it posts (script errors, CSP violations), which are logged and
 * which tests expect none of. Each presenter keeps one and hands it those two messages.
 */
export class RenderTracker<Report> {
  private readonly page: string;
  private readonly warn: (message: string) => void;
  private readonly renders = new Emitter<Report>();
  private last: Report | null = null;
  /** Errors the page reported, in order. */
  readonly problems: string[] = [];

  /** `page` names the page in the log and in a wait's timeout ("Monitor" → "Monitor webview: …"). */
  constructor(page: string, warn: (message: string) => void) {
    this.page = page;
    this.warn = warn;
  }

  /** The last report the page posted after drawing (null before the first, and after `forget`). */
  get lastRendered(): Report | null {
    return this.last;
  }

  receive(message: PageReport<Report>): void {
    if (message.type === 'rendered') {
      this.last = message.report;
      this.renders.fire(message.report);
    } else {
      this.problems.push(message.message);
      this.warn(`${this.page} webview: ${message.message}`);
    }
  }

  /** The page is about to show something else: its last report no longer answers a wait. */
  forget(): void {
    this.last = null;
  }

  /** Resolves with the last report if it matches, else with the next one that does. */
  waitForRendered(predicate: (report: Report) => boolean = () => true, timeoutMs = 15_000): Promise<Report> {
    return nextMatching(this.renders.event, this.last, predicate, timeoutMs, `The ${this.page} webview did not render within ${timeoutMs} ms`);
  }

  dispose(): void {
    this.renders.dispose();
  }
}
