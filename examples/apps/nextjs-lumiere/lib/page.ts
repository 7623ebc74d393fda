/** `?limit=` and `?offset=` of a list endpoint: whole numbers in range, else the defaults. */
export function pageOf(url: URL): { limit: number; offset: number } {
  const num = (v: string | null, dflt: number, max: number) => Math.min(v !== null && /^\d{1,6}$/.test(v) ? Number(v) : dflt, max);
  return { limit: Math.max(1, num(url.searchParams.get('limit'), 20, 100)), offset: num(url.searchParams.get('offset'), 0, 1_000_000) };
}
