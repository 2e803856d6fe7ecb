import type { ImageStore } from '../image/image-store.js';
import type { AgentLogger } from '../log.js';
import type { AgentState } from '../state/agent-state.js';
import { markFailed } from '../state/device-record.js';
import type { AgentContainers, SelfAgent } from './agent-containers.js';
import {
  candidateName,
  HANDOVER_ATTEMPTS,
  type Handover,
  leaderDuty,
  roleOf,
} from './handover-record.js';
import type { SelfReport } from './self-socket.js';
import type { Pause } from './test-pause.js';

export interface LeadershipDeps {
  readonly me: SelfAgent;
  readonly containers: AgentContainers;
  readonly state: AgentState;
  /** The agent's own images (edge-ota/agent), pruned to this one and the one it replaced. */
  readonly images: ImageStore;
  /** One poll of the release repository, as the agent's poll loop makes it; an error or none. */
  readonly firstPoll: () => Promise<string | undefined>;
  /** Updates what this agent says about itself on its own socket. */
  readonly report: (change: Partial<SelfReport>) => void;
  readonly pause: Pause;
  readonly log: AgentLogger;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Returns once this agent is in charge of the device, having finished what the last holder
 * left (a hand-over to it, or one it began itself and a restart cut short). Until then it
 * touches nothing: as a new agent of a hand-over it gets ready and waits to be given charge;
 * otherwise it waits while another agent holds it (agent/self/handover-record.ts, roleOf).
 */
export async function takeCharge(deps: LeadershipDeps): Promise<void> {
  const { me, state, containers, log } = deps;
  const sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  let polled = false;
  let said = '';
  let handover: Handover | null = null;
  for (;;) {
    const lease = await state.lease.read();
    const holder =
      lease && lease.container !== me.id ? await containers.state(lease.container) : 'running';
    const role = roleOf(me.id, lease, holder);
    if (role.kind === 'leader') {
      handover = lease?.handover ?? null;
      break;
    }
    if (role.kind === 'claim') {
      if (await state.lease.claim(me.id, role.expected)) {
        log.info({ replaced: role.expected?.slice(0, 12) }, 'this agent is in charge');
      }
      continue;
    }
    if (said !== role.kind) {
      said = role.kind;
      log.info(
        { holder: lease?.container.slice(0, 12) },
        role.kind === 'candidate'
          ? 'new agent: getting ready, the agent in charge hands over once this one is healthy'
          : 'another agent is in charge of this device: waiting',
      );
    }
    deps.report({ role: role.kind });
    if (role.kind === 'candidate' && !polled) {
      const error = await deps.firstPoll().catch((err: Error) => err.message);
      polled = error === undefined;
      deps.report({ ready: polled, firstPoll: { at: new Date().toISOString(), error } });
    }
    await sleep(role.kind === 'candidate' ? 1_000 : 5_000);
  }
  deps.report({ role: 'leader', ready: true });
  const duty = leaderDuty(me.id, handover);
  if (duty.kind === 'take-over') await takeOver(deps, duty.handover);
  if (duty.kind === 'abort') await abort(deps, duty.handover);
  // Any other container of this compose service is an agent left over (a cut hand-over, a
  // compose recreate racing one): waiting as a standby for ever helps nobody.
  for (const other of await containers.others()) {
    log.warn({ container: other.slice(0, 12) }, 'removing a left-over agent container');
    await containers.stopAndRemove(other, 15).catch((err) => log.warn({ err }, 'not removed'));
  }
}

/** The new agent, now in charge: the old agent goes, this one takes its name and image name. */
async function takeOver(deps: LeadershipDeps, handover: Handover): Promise<void> {
  const { me, containers, state, log } = deps;
  await deps.pause('took-lead');
  // First compose's image name, so a `docker compose up` from now on brings back this agent.
  if (handover.composeImage) await containers.tag(me.image, handover.composeImage);
  if (handover.from !== me.id) await containers.stopAndRemove(handover.from, 15);
  log.info({ removed: handover.from.slice(0, 12) }, 'the old agent is removed');
  await deps.pause('predecessor-removed');
  if (me.name !== handover.name) {
    await containers.rename(me.id, handover.name).then(
      () => {
        me.name = handover.name;
        deps.report({ name: handover.name });
      },
      (err) => log.warn({ err, name: handover.name }, 'could not take the old name'),
    );
  }
  await state.finishDeployment(handover.row, 'succeeded');
  await state.lease.setHandover(me.id, null);
  log.info({ version: handover.version, name: handover.name }, 'agent updated');
  await prune(deps, handover);
}

/** Keeps this agent's image and the replaced one's (for going back by hand); removes the rest. */
async function prune(deps: LeadershipDeps, handover: Handover): Promise<void> {
  const images = await deps.images.list().catch(() => []);
  for (const image of images) {
    if (image.id === handover.image || image.id === handover.fromImage) continue;
    await deps.images
      .remove(image.version)
      .catch((err) => deps.log.warn({ err, version: image.version }, 'agent image kept'));
  }
}

/** A hand-over this agent began before a restart: the new agent goes; the next poll tries again. */
async function abort(deps: LeadershipDeps, handover: Handover): Promise<void> {
  const { me, containers, state, log } = deps;
  // By id if it was recorded; by name too (a cut between its creation and the record).
  const named = await containers.idOf(candidateName(handover.name, me.name));
  for (const id of new Set([handover.candidate, named])) {
    if (id && id !== me.id) await containers.stopAndRemove(id, 10);
  }
  // Cut short again and again (an agent killed for lack of memory, say): failed after a few.
  const key = `agent hand-over ${handover.version}`;
  const tries = 1 + ((await state.record()).buildFailures[key] ?? 0);
  const reason =
    tries >= HANDOVER_ATTEMPTS
      ? `agent hand-over failed: cut short by a restart ${tries} times`
      : 'the agent restarted during its hand-over; tried again at the next poll';
  await state.update((r) => {
    const counted = { ...r, buildFailures: { ...r.buildFailures, [key]: tries } };
    return tries >= HANDOVER_ATTEMPTS ? markFailed(counted, handover.version, reason) : counted;
  });
  await state.finishDeployment(
    handover.row,
    tries >= HANDOVER_ATTEMPTS ? 'failed' : 'abandoned',
    reason,
  );
  await state.lease.setHandover(me.id, null);
  log.warn({ version: handover.version, tries }, reason);
}
