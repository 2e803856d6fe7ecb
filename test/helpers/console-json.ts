/** Reading the console's JSON answers in tests. */
// biome-ignore lint/suspicious/noExplicitAny: the answers are JSON, read field by field
export type Json = Record<string, any>;

export async function getJson(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Json,
  };
}

export const byId = (devices: Json[]) => Object.fromEntries(devices.map((d) => [d.id, d]));
