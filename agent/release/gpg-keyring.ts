import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import type { AgentLogger } from '../log.js';

const run = promisify(execFile);

/**
 * Makes `home` a GPG keyring holding exactly the keys in `keysFile` (none without one), so
 * git's GPG verification trusts those keys and nothing else. Made afresh each time: a key
 * taken out of the file stops counting at the next start. A file gpg cannot import is logged;
 * GPG-signed tags are then refused (no public key), SSH-signed ones are unaffected.
 */
export async function importGpgKeys(
  home: string,
  keysFile: string | undefined,
  log: AgentLogger,
): Promise<void> {
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (!keysFile) return;
  try {
    const { stderr } = await run('gpg', ['--homedir', home, '--batch', '--import', keysFile]);
    const imported = /imported: (\d+)/.exec(stderr)?.[1] ?? /unchanged: (\d+)/.exec(stderr)?.[1];
    log.info({ file: keysFile, keys: Number(imported ?? 0) }, 'GPG keys trusted for signatures');
  } catch (err) {
    log.error(
      { file: keysFile, err },
      'could not import OTA_ALLOWED_GPG_KEYS_FILE: GPG-signed releases will be refused',
    );
  }
}
