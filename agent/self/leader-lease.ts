import type { Knex } from 'knex';
import type { Handover, Lease } from './handover-record.js';

/**
 * The lock both agents respect during a self-update: one row naming the container in charge
 * (table agent_leader in the agent's state database, on the volume both mount). Every change
 * is one conditional UPDATE (compare and set), atomic across the two processes: SQLite
 * serialises writers on the file.
 */
export class LeaderLease {
  constructor(
    private readonly db: Knex,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async read(): Promise<Lease | undefined> {
    const row = await this.db('agent_leader').where({ id: 1 }).first();
    if (!row) return undefined;
    return {
      container: String(row.container),
      handover: row.handover ? (JSON.parse(String(row.handover)) as Handover) : null,
    };
  }

  /** Takes charge if the holder is still `expected` (null: nobody); true if this agent now holds it. */
  async claim(me: string, expected: string | null): Promise<boolean> {
    if (expected === null) {
      await this.db('agent_leader')
        .insert({ id: 1, container: me, since: this.now(), handover: null })
        .onConflict('id')
        .ignore();
    } else {
      await this.db('agent_leader')
        .where({ id: 1, container: expected })
        .update({ container: me, since: this.now() });
    }
    return (await this.read())?.container === me;
  }

  /** Records (or clears) the hand-over; only the holder may: false if `me` is not it. */
  async setHandover(me: string, handover: Handover | null): Promise<boolean> {
    const changed = await this.db('agent_leader')
      .where({ id: 1, container: me })
      .update({ handover: handover && JSON.stringify(handover) });
    return changed === 1;
  }

  /** Gives charge to the new agent, in the same statement that records the hand-over phase. */
  async pass(me: string, handover: Handover & { candidate: string }): Promise<boolean> {
    const changed = await this.db('agent_leader')
      .where({ id: 1, container: me })
      .update({
        container: handover.candidate,
        since: this.now(),
        handover: JSON.stringify({ ...handover, phase: 'handing-over' }),
      });
    return changed === 1;
  }
}
