import { storeChanges } from '../store/counter.js';
import type { Collector, CounterSnapshot } from '../store/snapshot.js';
import { SELF } from '../../views/index.js';

/**
 * The count of scrapes that used a process's last published values because it did not publish in
 * time, exposed by every process that takes part in a merge (and summed by it).
 */
export class PublishTimeouts {
  private count = 0;

  readonly collector: Collector = {
    collect: () => [{ def: SELF.multiprocessTimeouts as CounterSnapshot['def'], name: SELF.multiprocessTimeouts.name, points: [{ labels: [], value: this.count }] }],
  };

  add(n = 1): void {
    // A change like any recording: the next publication carries it.
    storeChanges.count++;
    this.count += n;
  }
}
