/**
 * The lines of a container's log as the engine sends them. For a container without a TTY (the
 * app's) the stream is multiplexed: frames of an 8-byte header (stream type, 3 zero bytes, a
 * big-endian length) and a payload; a TTY container's log is plain text. Pure.
 */
export function logLines(raw: Buffer): string[] {
  const text = isMultiplexed(raw) ? demultiplex(raw) : raw.toString('utf8');
  return text.split(/\r?\n/).filter((line) => line.length > 0);
}

function isMultiplexed(raw: Buffer): boolean {
  return raw.length >= 8 && raw[0] !== undefined && raw[0] <= 2 && raw.readUIntBE(1, 3) === 0;
}

function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
