import { ConfigError } from '@trace/platform';
import { DEFAULT_RECALL_OPTIONS, recallOptions } from './options';

describe('recall options', () => {
  it('defaults, reads both variables, and allows 0 (off)', () => {
    expect(recallOptions({})).toEqual(DEFAULT_RECALL_OPTIONS);
    expect(recallOptions({ RECALL_SCOPE_FOLLOW_MS: '0', RECALL_LINEAGE_WAIT_MS: ' 1500 ' })).toEqual({ followIntervalMs: 0, lineageWaitMs: 1500 });
  });

  it('fails the start-up naming every malformed variable', () => {
    const thrown = (() => {
      try {
        recallOptions({ RECALL_SCOPE_FOLLOW_MS: '50', RECALL_LINEAGE_WAIT_MS: 'soon' });
      } catch (err) {
        return err;
      }
    })() as ConfigError;
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown.problems).toEqual([
      'RECALL_SCOPE_FOLLOW_MS="50": must be 0 (off) or at least 100 ms',
      'RECALL_LINEAGE_WAIT_MS="soon": must be 0 (off) or at least 100 ms',
    ]);
  });
});
