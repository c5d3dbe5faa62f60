import { ConfigError } from '../config';
import { webhookOptions } from './options';

describe('webhook settings', () => {
  it('defaults: private addresses refused, worker on, 10 s doubling to 1 h for 24 h, 10 s timeout', () => {
    expect(webhookOptions({})).toEqual({
      allowPrivate: false,
      worker: true,
      retryBaseMs: 10_000,
      retryMaxMs: 3_600_000,
      retryForMs: 86_400_000,
      timeoutMs: 10_000,
      pollMs: 1_000,
    });
    expect(webhookOptions({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_WORKER: 'false', WEBHOOK_RETRY_BASE_MS: '100' })).toMatchObject({
      allowPrivate: true,
      worker: false,
      retryBaseMs: 100,
    });
  });

  it('refuses malformed values at start-up, naming each', () => {
    expect(() => webhookOptions({ WEBHOOK_ALLOW_PRIVATE: 'yes', WEBHOOK_TIMEOUT_MS: '0', WEBHOOK_POLL_MS: 'soon' })).toThrow(ConfigError);
    try {
      webhookOptions({ WEBHOOK_ALLOW_PRIVATE: 'yes', WEBHOOK_TIMEOUT_MS: '0', WEBHOOK_POLL_MS: 'soon' });
    } catch (err) {
      const text = (err as Error).message + JSON.stringify(err);
      expect(text).toMatch(/WEBHOOK_ALLOW_PRIVATE/);
      expect(text).toMatch(/WEBHOOK_TIMEOUT_MS/);
      expect(text).toMatch(/WEBHOOK_POLL_MS/);
    }
  });
});
