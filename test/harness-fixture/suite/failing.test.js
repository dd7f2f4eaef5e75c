'use strict';
// Deliberately failing: loaded only when HARNESS_FIXTURE_FAIL=1 (see index.js).
const assert = require('node:assert/strict');

describe('harness fixture (deliberate failure)', () => {
  it('fails on purpose', () => {
    assert.equal(1 + 1, 3, 'this test is meant to fail');
  });
});
