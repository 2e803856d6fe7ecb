/**
 * An instant from a query string: epoch milliseconds or an ISO 8601 time. Undefined when
 * absent, null when present but not an instant.
 */
export function parseInstant(value: string | undefined): number | undefined | null {
  if (value === undefined || value === '') return undefined;
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

/** How many chart points to aim for: 10 to 5,000; undefined when absent, null when invalid. */
export function parsePoints(value: string | undefined): number | undefined | null {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return /^\d{1,4}$/.test(value) && n >= 10 && n <= 5_000 ? n : null;
}
