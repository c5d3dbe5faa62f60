/** Stops what the global setup started (nothing when CI provided the services). */
export default async function globalTeardown(): Promise<void> {
  const g = globalThis as unknown as Record<string, { stop(): Promise<unknown> } | undefined>;
  await g.__EMBEDDED_PG__?.stop();
  await g.__PG_CONTAINER__?.stop();
  await g.__REDIS_CONTAINER__?.stop();
}
