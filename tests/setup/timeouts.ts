// Integration and e2e tests wait on real brokers and processes; their own
// `eventually` deadlines are the real limits, this is only the backstop.
jest.setTimeout(Number(process.env.TEST_TIMEOUT_MS ?? 90_000));
