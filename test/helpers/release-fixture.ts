import { join } from 'node:path';
import { gitClient } from '../../agent/release/git-client.js';
import { GitReleaseSource } from '../../agent/release/git-release-source.js';
import { ReleaseWatcher, type WatcherOptions } from '../../agent/release/release-watcher.js';
import { TagLedger } from '../../agent/release/tag-ledger.js';
import { captureLog } from './capture-log.js';

export interface SourceSetup {
  url: string;
  stateDir: string;
  token?: string | (() => string | undefined);
  /** GPG public keys the device trusts (OTA_ALLOWED_GPG_KEYS_FILE). */
  gpgKeysFile?: string;
  /** The CA certificates git trusts for an https URL (OTA_GIT_CA_FILE). */
  caFile?: string | undefined;
  /** The setting the token came from, as error messages name it. */
  tokenVariable?: string | undefined;
  retries?: number;
  timeoutMs?: number;
}

/** The agent's real release source and watcher, wired as main wires them, with captured logs. */
export function makeWatcher(setup: SourceSetup, options: Partial<WatcherOptions> = {}) {
  const { log, lines, events } = captureLog();
  const token = setup.token;
  const source = new GitReleaseSource(
    {
      url: setup.url,
      stateDir: setup.stateDir,
      token: typeof token === 'function' ? token : () => token,
      tokenVariable: setup.tokenVariable,
      gpgKeysFile: setup.gpgKeysFile,
      caFile: setup.caFile,
      timeoutMs: setup.timeoutMs ?? 20_000,
      retries: setup.retries ?? 2,
      minRetryMs: 100,
      maxRetryMs: 400,
      git: gitClient(setup.timeoutMs ?? 20_000),
    },
    log,
  );
  const watcher = new ReleaseWatcher(
    source,
    new TagLedger(join(setup.stateDir, 'tags.json')),
    {
      channel: 'stable',
      requireSigned: false,
      allowedSignersFile: undefined,
      acceptMovedTags: false,
      sweepIntervalMs: 3_600_000,
      now: Date.now,
      device: { id: 'pi-test', groups: [] },
      policyFile: join(setup.stateDir, 'policy.json'),
      ...options,
    },
    log,
  );
  return { source, watcher, lines, events };
}
