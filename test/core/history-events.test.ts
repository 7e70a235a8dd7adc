import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBudget } from '../../src/core/history/events.js';

describe('EventBudget (history events per room and minute)', () => {
  it('allows the per-minute amount at once, then refills over the minute, per room', () => {
    let now = 0;
    const budget = new EventBudget(3, () => now);
    assert.deepEqual([1, 2, 3, 4].map(() => budget.take('#a')), [true, true, true, false]);
    assert.equal(budget.take('#b'), true, 'another room has its own');
    now += 20_000; // a third of a minute: one event back
    assert.deepEqual([budget.take('#a'), budget.take('#a')], [true, false]);
    now += 10 * 60_000; // never more than the per-minute amount
    assert.deepEqual([1, 2, 3, 4].map(() => budget.take('#a')), [true, true, true, false]);
  });
});
