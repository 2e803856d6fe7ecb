// Runs a fleet's polls in virtual time, so the schedule of a real fleet (a poll a minute per
// device) is kept exactly while one small machine works through the polls as fast as it can.

/** A change to the world (a new tag, a new policy) at a virtual time. */
export interface FleetEvent {
  readonly at: number;
  readonly run: () => Promise<void>;
}

export interface VirtualFleetOptions {
  /** Virtual time (ms) of each device's first poll. */
  readonly firstPolls: readonly number[];
  /** Polls device `index` as of virtual time `at`. */
  readonly poll: (index: number, at: number) => Promise<void>;
  /** Delay from one poll of device `index` to its next. */
  readonly nextDelay: (index: number) => number;
  readonly events: readonly FleetEvent[];
  /** Virtual time at which the run ends; polls due from then on are not run. */
  readonly until: number;
  /** Polls under way at once (each spawns git processes). */
  readonly concurrency: number;
}

export interface VirtualFleetResult {
  readonly polls: number;
  /** Polls started after one due later than them: 0 unless the run-ahead broke the order. */
  readonly outOfOrder: number;
}

/**
 * Starts polls in order of due time, at most `concurrency` at once. An event runs only when
 * every poll due before it has finished and none due after it has started, so each poll sees
 * the world as it is at its own virtual time. A device's next poll is due its delay after the
 * previous one was due: waiting in this queue is the simulator's, not the device's.
 */
export async function runVirtualFleet(options: VirtualFleetOptions): Promise<VirtualFleetResult> {
  const due = options.firstPolls.map((at, index) => ({ at, index }));
  const events = [...options.events].sort((a, b) => a.at - b.at);
  const running = new Set<Promise<void>>();
  let lastStarted = Number.NEGATIVE_INFINITY;
  let polls = 0;
  let outOfOrder = 0;
  const earliest = () => {
    let best = -1;
    due.forEach((d, i) => {
      const b = due[best];
      if (!b || d.at < b.at || (d.at === b.at && d.index < b.index)) best = i;
    });
    return best;
  };
  try {
    for (;;) {
      const i = earliest();
      const next = due[i];
      const event = events[0];
      if (event && event.at < options.until && (!next || event.at <= next.at)) {
        // Finishing polls add their next ones, which may fall before the event: look again.
        if (running.size > 0) await Promise.race(running);
        else {
          events.shift();
          await event.run();
        }
        continue;
      }
      if (!next || next.at >= options.until) break;
      if (running.size >= options.concurrency) {
        await Promise.race(running);
        continue;
      }
      due.splice(i, 1);
      if (next.at < lastStarted) outOfOrder += 1;
      lastStarted = next.at;
      polls += 1;
      const poll: Promise<void> = options
        .poll(next.index, next.at)
        .then(() => {
          due.push({ at: next.at + options.nextDelay(next.index), index: next.index });
        })
        .finally(() => running.delete(poll));
      running.add(poll);
    }
  } finally {
    await Promise.allSettled(running);
  }
  return { polls, outOfOrder };
}
