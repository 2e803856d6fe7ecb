/**
 * A timestamp as a driver returns it: a Date (pg, tedious), epoch milliseconds (knex stores
 * Dates that way in SQLite) or text. Undefined for null or something unreadable.
 */
export function toMs(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

export function toIso(value: unknown): string | null {
  const ms = toMs(value);
  return ms === undefined ? null : new Date(ms).toISOString();
}
