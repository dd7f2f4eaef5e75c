import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Disposable, toDisposable } from '../../src/vscode/lifecycle.ts';

class Owner extends Disposable {
  own<T extends { dispose(): void }>(value: T): T {
    return this._register(value);
  }
}

describe('Disposable', () => {
  it('disposes what it registered, last registered first, once', () => {
    const order: string[] = [];
    const owner = new Owner();
    owner.own(toDisposable(() => order.push('database')));
    owner.own(toDisposable(() => order.push('view')));
    owner.dispose();
    owner.dispose();
    assert.deepEqual(order, ['view', 'database']);
  });

  it('disposes a value registered after the owner was disposed at once', () => {
    const owner = new Owner();
    owner.dispose();
    let disposed = false;
    owner.own(toDisposable(() => (disposed = true)));
    assert.equal(disposed, true);
  });

  it('disposes every value even when one throws, then rethrows the first error', () => {
    const order: string[] = [];
    const owner = new Owner();
    owner.own(toDisposable(() => order.push('first')));
    owner.own(
      toDisposable(() => {
        throw new Error('broken');
      }),
    );
    assert.throws(() => owner.dispose(), /broken/);
    assert.deepEqual(order, ['first']);
  });
});
