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
