/**
 * How soon a recall must start and finish, by level (DOMAIN.md §7, China food
 * recalls, 食品召回管理办法 2015): start within 24 h / 48 h / 72 h, finish
 * within 10 / 20 / 30 working days, counted on the working-day calendar
 * kept as data (the one incident reports use: weekends and public holidays).
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

/**
 * Start by `startHours` after `from`; complete by 24:00 (Asia/Shanghai) of the
 * `completeWorkingDays`-th working day after it, as `afterWorkingDays` counts
 * on the calendar.
 */
export async function deadlinesFor(
  rule: RecallDeadlineRule,
  from: Date,
  afterWorkingDays: (from: Date, days: number) => Promise<Date>,
): Promise<{ startBy: Date; completeBy: Date }> {
  return { startBy: new Date(from.getTime() + rule.startHours * 3_600_000), completeBy: await afterWorkingDays(from, rule.completeWorkingDays) };
}
