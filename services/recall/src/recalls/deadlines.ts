/**
 * How soon a recall must start and finish, by level (DOMAIN.md §7, China food
 * recalls, 食品召回管理办法 2015): start within 24 h / 48 h / 72 h, finish
 * within 10 / 20 / 30 working days. Working days here are Monday to Friday
 * (UTC); public holidays are not known to this table.
 *
 * Configurable with RECALL_DEADLINES, a JSON object by level, e.g.
 * `{"1":{"startHours":24,"completeWorkingDays":10}}` (levels not named keep
 * the default).
 */
export interface RecallDeadlineRule {
  startHours: number;
  completeWorkingDays: number;
}

export type RecallLevel = 1 | 2 | 3;
export const RECALL_LEVELS: readonly RecallLevel[] = [1, 2, 3];

export const DEFAULT_RECALL_DEADLINES: Readonly<Record<RecallLevel, RecallDeadlineRule>> = {
  1: { startHours: 24, completeWorkingDays: 10 },
  2: { startHours: 48, completeWorkingDays: 20 },
  3: { startHours: 72, completeWorkingDays: 30 },
};

export const RECALL_DEADLINES = Symbol('RECALL_DEADLINES');

export function recallDeadlines(env: string | undefined = process.env.RECALL_DEADLINES): Record<RecallLevel, RecallDeadlineRule> {
  const table = { ...DEFAULT_RECALL_DEADLINES };
  if (!env) return table;
  let parsed: unknown;
  try {
    parsed = JSON.parse(env);
  } catch {
    throw new Error('RECALL_DEADLINES must be a JSON object by level');
  }
  for (const [key, rule] of Object.entries(parsed as Record<string, Partial<RecallDeadlineRule>>)) {
    const level = Number(key) as RecallLevel;
    if (!RECALL_LEVELS.includes(level)) throw new Error(`RECALL_DEADLINES: unknown level ${key}`);
    const next = { ...table[level], ...rule };
    if (!(next.startHours > 0) || !(Number.isInteger(next.completeWorkingDays) && next.completeWorkingDays > 0)) {
      throw new Error(`RECALL_DEADLINES: level ${key} needs a positive startHours and a positive whole completeWorkingDays`);
    }
    table[level] = next;
  }
  return table;
}

/** `days` working days (Monday to Friday, UTC) after `from`, at the same time of day. */
export function addWorkingDays(from: Date, days: number): Date {
  const d = new Date(from.getTime());
  let left = days;
  while (left > 0) {
    d.setUTCDate(d.getUTCDate() + 1);
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) left--;
  }
  return d;
}

export function deadlinesFor(rule: RecallDeadlineRule, from: Date): { startBy: Date; completeBy: Date } {
  return { startBy: new Date(from.getTime() + rule.startHours * 3_600_000), completeBy: addWorkingDays(from, rule.completeWorkingDays) };
}
