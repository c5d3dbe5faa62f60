import { ConfigError, intervalFromEnv } from '@trace/platform';

export interface RecallOptions {
  /**
   * How often every active recall's scope is compared with lineage, so
   * batches lineage learns of late join it (RECALL_SCOPE_FOLLOW_MS; 0 = off,
   * closing still follows once).
   */
  followIntervalMs: number;
  /**
   * How long starting a recall waits for lineage to learn of a root it does
   * not know yet (registered a moment ago, or lineage catching up) before
   * answering 422 unknown-batch (RECALL_LINEAGE_WAIT_MS; 0 = not at all).
   */
  lineageWaitMs: number;
}

export const DEFAULT_RECALL_OPTIONS: Readonly<RecallOptions> = { followIntervalMs: 2_000, lineageWaitMs: 3_000 };

export const RECALL_OPTIONS = Symbol('RECALL_OPTIONS');

export function recallOptions(env: NodeJS.ProcessEnv = process.env): RecallOptions {
  const problems: string[] = [];
  const followIntervalMs = intervalFromEnv(env, 'RECALL_SCOPE_FOLLOW_MS', DEFAULT_RECALL_OPTIONS.followIntervalMs, problems);
  const lineageWaitMs = intervalFromEnv(env, 'RECALL_LINEAGE_WAIT_MS', DEFAULT_RECALL_OPTIONS.lineageWaitMs, problems);
  if (problems.length) throw new ConfigError(problems);
  return { followIntervalMs, lineageWaitMs };
}
