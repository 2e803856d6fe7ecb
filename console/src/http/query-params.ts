/**
 * An instant from a query string: epoch milliseconds or an ISO 8601 time. Undefined when
 * absent, null when present but not an instant.
 */
export function parseInstant(value: string | undefined): number | undefined | null {
  if (value === undefined || value === '') return undefined;
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
