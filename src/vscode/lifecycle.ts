// No `vscode` import: VS Code's Disposable is structural, so this base serves the container,
// trees and panels, and is tested on plain Node.

export interface DisposableLike {
  dispose(): void;
}

/**
 * A base for owners of disposables: what it `_register`s is disposed with it, last registered first (a
 * view goes before the database it reads). Registering on an owner that is already disposed
 * disposes the value at once, so nothing outlives its owner because it arrived late (after
 * microsoft/vscode-pull-request-github src/common/lifecycle.ts).
 */
export abstract class Disposable implements DisposableLike {
  private readonly owned: DisposableLike[] = [];
  private disposed = false;

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  protected _register<T extends DisposableLike>(value: T): T {
    if (this.disposed) value.dispose();
    else this.owned.push(value);
    return value;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Every value gets its turn even when one throws; the first error is rethrown after.
    let failure: unknown;
    for (const value of this.owned.splice(0).reverse()) {
      try {
        value.dispose();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }
}

/** A disposable that runs `fn` once. */
export function toDisposable(fn: () => void): DisposableLike {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      fn();
    },
  };
}
