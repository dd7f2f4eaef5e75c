/** Minimal VS Code–shaped event plumbing, so the core runs on plain Node (CLI, unit tests). */
export interface Disposable {
  dispose(): void;
}

export type Event<T> = (listener: (value: T) => void) => Disposable;

export class Emitter<T> implements Disposable {
  private listeners = new Set<(value: T) => void>();

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (err) {
        // A faulty listener must not break the producer (a capture loop, a store write).
        console.error('Runboard listener failed:', err);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/**
 * `last` when it matches, else the next value of `event` that does; rejects with `timeoutMessage`
 * after `timeoutMs`. Tests wait on a webview's `rendered` reports this way.
 */
export function nextMatching<T>(event: Event<T>, last: T | null, predicate: (value: T) => boolean, timeoutMs: number, timeoutMessage: string): Promise<T> {
  if (last !== null && predicate(last)) return Promise.resolve(last);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(timeoutMessage));
    }, timeoutMs);
    const sub = event((value) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(value);
    });
  });
}
