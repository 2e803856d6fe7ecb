import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A server's key and certificate, as PEM text for node:https. */
export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

/** Certificates made with openssl for one test file; nothing is trusted system-wide. */
export interface TestPki {
  /** The CA the device is told to trust (OTA_GIT_CA_FILE). */
  readonly caFile: string;
  /** A second CA that signed nothing the server uses: trusting it must not help. */
  readonly otherCaFile: string;
  /** Signed by the CA, for 127.0.0.1 and localhost: the certificate that works. */
  readonly server: KeyPair;
  /** The same names, signed by the other CA. */
  readonly foreign: KeyPair;
  /** Signed by nobody but itself, for 127.0.0.1 and localhost. */
  readonly selfSigned: KeyPair;
  /** Signed by the CA, but for another host name only. */
  readonly wrongHost: KeyPair;
  /** Signed by the CA, for the right names, expired yesterday. */
  readonly expired: KeyPair;
}

const SERVER_NAMES = 'IP:127.0.0.1,DNS:localhost';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

// P-256 keys: made in milliseconds, unlike RSA.
const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl([
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=OTA test ${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

/** A server certificate for `names` signed by `ca`, valid for `days` (negative: expired). */
function issue(
  dir: string,
  name: string,
  ca: { cert: string; key: string },
  names: string,
  days: number,
): KeyPair {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    `subjectAltName=${names}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  openssl(['req', ...newKey, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    String(days),
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

function selfSigned(dir: string): KeyPair {
  const key = join(dir, 'self.key');
  const cert = join(dir, 'self.pem');
  openssl([
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    `subjectAltName=${SERVER_NAMES}`,
  ]);
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

/** Makes a test CA, an unrelated second CA, and server certificates good and bad, under `dir`. */
export function makeTestPki(dir: string): TestPki {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true });
  const ca = makeCa(pki, 'ca');
  const other = makeCa(pki, 'other-ca');
  return {
    caFile: ca.cert,
    otherCaFile: other.cert,
    server: issue(pki, 'server', ca, SERVER_NAMES, 2),
    foreign: issue(pki, 'foreign', other, SERVER_NAMES, 2),
    selfSigned: selfSigned(pki),
    wrongHost: issue(pki, 'wrong-host', ca, 'DNS:ota-elsewhere.invalid', 2),
    expired: issue(pki, 'expired', ca, SERVER_NAMES, -1),
  };
}
