// Prints how long the project's real Dockerfiles take to build for linux/arm64 under qemu on
// this x86 machine: the nearest figure there is to a build on a Pi (a Pi's own is not
// measured). The agent first, without cache, as `docker compose up` builds it on a new Pi; then
// the app, which reuses the agent's `npm ci` layer as it would there. Not a timed test.
// Usage: npm run build && npm run bench:arm64     (needs OTA_ARM64_NODE_IMAGE: scripts/test-arm64.sh)
import { randomBytes } from 'node:crypto';
import { ARM64_NODE_IMAGE, architectureOf, buildArm64 } from '../test/helpers/arm64-images.js';
import { docker } from '../test/helpers/docker-cli.js';
import { loadTestEnv, printTable, seconds } from './lib/bench-env.js';

loadTestEnv();
const base = process.env.OTA_ARM64_NODE_IMAGE || ARM64_NODE_IMAGE;
if (!base) throw new Error('OTA_ARM64_NODE_IMAGE is empty: run scripts/test-arm64.sh first');
process.env.OTA_ARM64_NODE_IMAGE = base;

const suffix = randomBytes(3).toString('hex');
const refs = { agent: `ota-bench-arm64/agent:${suffix}`, app: `ota-bench-arm64/app:${suffix}` };
const rows: [string, string, string][] = [];
try {
  const agent = await buildArm64('Dockerfile.agent', refs.agent, {
    version: '0.0.0-bench',
    revision: 'bench',
    noCache: true,
  });
  rows.push(['agent', 'Dockerfile.agent, no cache', seconds(agent.ms)]);
  const app = await buildArm64('Dockerfile.app', refs.app, { version: '1.0.0', revision: 'bench' });
  rows.push(['app', "Dockerfile.app, npm ci from the agent's layer", seconds(app.ms)]);
  const appCold = await buildArm64('Dockerfile.app', refs.app, {
    version: '1.0.0',
    revision: 'bench',
    noCache: true,
  });
  rows.push(['app', 'Dockerfile.app, no cache', seconds(appCold.ms)]);
  for (const [what, ref] of Object.entries(refs)) {
    rows.push([what, 'image platform', await architectureOf(ref)]);
    const size = await docker(['image', 'inspect', '-f', '{{.Size}}', ref]);
    rows.push([what, 'image size', `${(Number(size) / 1e6).toFixed(0)} MB`]);
  }
  console.log(`linux/arm64 builds under qemu from ${base}, ${new Date().toISOString()}`);
  printTable(rows);
} finally {
  await docker(['rmi', refs.agent, refs.app]).catch(() => undefined);
  // The app image the cold rebuild replaced is left untagged; only ours carry this label.
  await docker(['image', 'prune', '-f', '--filter', 'label=ota-test=arm64']).catch(() => '');
}
