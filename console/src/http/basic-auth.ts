import type { FastifyReply, FastifyRequest } from 'fastify';
import { type PasswordHash, verifyPassword } from '../password.js';

/**
 * HTTP Basic authentication against one scrypt hash (any user name). A header that verified
 * is remembered (a few, for the polling pages) so scrypt's deliberate cost is paid per login,
 * not per request. Basic sends the password with every request: put TLS in front (README).
 */
export function basicAuth(hash: PasswordHash) {
  const verified = new Set<string>();
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.url === '/healthz') return;
    const header = request.headers.authorization ?? '';
    if (verified.has(header)) return;
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
    const decoded = m ? Buffer.from(m[1] ?? '', 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon >= 0 && (await verifyPassword(decoded.slice(colon + 1), hash))) {
      if (verified.size >= 16) verified.clear();
      verified.add(header);
      return;
    }
    request.log.info({ ip: request.ip }, m ? 'console login refused' : 'console login needed');
    await reply
      .code(401)
      .header('www-authenticate', 'Basic realm="ota console", charset="UTF-8"')
      .send({ error: 'password required' });
  };
}
