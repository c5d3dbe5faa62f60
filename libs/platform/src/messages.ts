import type { ProblemDetails } from './problem';
import { PROBLEM_TYPES, problemSlug } from './problem-types';

/**
 * The one message catalogue of problem+json answers. English is written where
 * the problem is raised (it names ids and values); a caller whose
 * Accept-Language prefers Chinese gets the title, and for the common problem
 * types the detail, in Chinese from here. `type`, `status`, `errors[].field`
 * and extension members (ids, values) stay as they are: clients branch on
 * those, never on prose. A type without a Chinese detail keeps the English one
 * under a Chinese title.
 */
export type Language = 'en' | 'zh';

export const STATUS_TITLES_ZH: Record<number, string> = {
  400: '请求有误',
  401: '未认证',
  403: '无权操作',
  404: '未找到',
  405: '不支持的请求方法',
  406: '无法提供所要求的格式',
  409: '冲突',
  413: '请求体过大',
  415: '不支持的媒体类型',
  422: '无法处理的请求',
  429: '请求过于频繁',
  500: '服务器内部错误',
  501: '尚未实现',
  503: '服务暂不可用',
};

/** What a 404 of each type could not find. */
const NOT_FOUND_ZH: Record<string, string> = {
  batch: '批次',
  case: '案件',
  organisation: '组织',
  location: '地点',
  incident: '事件报告',
  client: '客户端',
  certificate: '合格证',
  recall: '召回',
  product: '产品',
  webhook: 'Webhook',
  item: '单品',
  release: '批签发记录',
  'traceability-lot': '可追溯批次',
  'epcis-event': 'EPCIS 事件',
  'epcis-resource': 'EPCIS 资源',
  'capture-job': 'EPCIS 采集任务',
  'not-found': '资源',
};

const ext = (p: ProblemDetails, key: string) => (typeof p[key] === 'string' || typeof p[key] === 'number' ? String(p[key]) : '');

/** Chinese details by problem type (the slug after https://problems.trace.dev/). */
const DETAILS_ZH: Record<string, (p: ProblemDetails) => string> = {
  validation: (p) =>
    p.errors?.length
      ? `请求不符合要求，请检查以下字段：${[...new Set(p.errors.map((e) => e.field))].join('、')}（各字段说明见 errors）`
      : '请求不符合要求',
  'malformed-json': () => '请求体不是合法的 JSON',
  'unsupported-media-type': () => '请求体须为 JSON（Content-Type: application/json）',
  'unknown-parameter': () => '请求包含不支持的查询参数',
  'invalid-parameter': () => '查询参数的值无效',
  gtin: (p) => `GTIN 无效：${p.detail ?? ''}`,
  'digital-link': (p) => `不是有效的 GS1 数字链接：${p.detail ?? ''}`,
  role: () => '当前角色无权执行此操作',
  forbidden: () => '无权执行此操作',
  unauthorized: () => '缺少或无效的访问令牌',
  'not-the-holder': () => '贵组织当前未持有该批次，不能记录此事件',
  'not-in-scope': () => '该批次不在您可操作的范围内',
  'location-org': () => '操作员只能为本组织创建地点',
  'incident-not-responsible': () => '贵组织不是该事件报告的责任方',
  'already-recalled': (p) => `该批次已在进行中的召回 ${ext(p, 'recallId')} 范围内`,
  'batch-recalled': () => '该批次已被召回，只能退回、接收退货或销毁',
  'batch-held': () => '该批次因抽检不合格被暂控，不能流转',
  'held-batch': () => '该批次因抽检不合格被暂控，不能流转',
  'batch-destroyed': () => '该批次已销毁，召回已无可追回的对象',
  'batch-dispensed': () => '该批次已全部发药',
  'batch-expired': () => '该批次已过期',
  'insufficient-quantity': () => '持有数量不足',
  'duplicate-lot': () => '该 GTIN 下已有相同批号的批次',
  'duplicate-gtin': () => '该 GTIN 已登记',
  'gtin-taken': () => '该 GTIN 已属于其他组织',
  'duplicate-code': () => '该追溯码已存在',
  'duplicate-report-no': () => '该检验报告编号已存在',
  'duplicate-release-number': () => '该批签发编号已存在',
  'organisation-name-taken': (p) => `同类型下已有同名组织（${ext(p, 'existingOrgId')}）`,
  'case-not-open': () => '该案件已结案',
  'case-recalled': (p) => `该案件已转为召回 ${ext(p, 'recallId')}`,
  'no-recall': () => '尚无召回覆盖该案件的批次，请先发起召回',
  'recall-closed': () => '该召回已结束',
  'recall-scope-grew': () => '召回范围刚刚扩大，请先通知新增批次的持有方',
  'incident-already-reported': () => '该事件已上报',
  'retest-already-cleared': () => '该案件已由复检结案',
  'certificate-required': () => '该类别的产品须先开具承诺达标合格证才能发货',
  'batch-release-required': () => '该疫苗批次须先取得批签发才能发货',
  'ccc-required': () => '该类别的商品须提供 CCC 认证编号',
  'unknown-batch': () => '未知的批次',
  'unknown-product': () => '未知的产品，请先登记产品',
  'unknown-location': () => '未知的地点',
  'unknown-organisation': () => '未知的组织',
  'unit-mismatch': () => '计量单位与批次不一致',
  organisation: (p) => (p.status === 404 ? '未找到该组织' : '该组织未登记或不能用于此操作'),
  'idempotency-key-reused': () => '该 Idempotency-Key 已用于另一个请求',
  'rate-limited': () => '请求过于频繁，请稍后重试',
  internal: () => '发生意外错误，已记录日志',
};

/**
 * Whether the Accept-Language header prefers Chinese: the language range with
 * the highest q (first among equals) is `zh` or `zh-…`.
 */
export function preferredLanguage(header: string | string[] | undefined): Language {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return 'en';
  let best: { lang: string; q: number } | undefined;
  for (const part of value.split(',')) {
    const [range, ...params] = part.trim().split(';');
    const qParam = params.map((s) => s.trim()).find((s) => s.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!range || !Number.isFinite(q) || q <= 0) continue;
    if (!best || q > best.q) best = { lang: range.toLowerCase(), q };
  }
  return best && (best.lang === 'zh' || best.lang.startsWith('zh-')) ? 'zh' : 'en';
}

/** The problem in the caller's language (a new object; English is returned as it is). */
export function localizeProblem(problem: ProblemDetails, language: Language): ProblemDetails {
  if (language === 'en') return problem;
  const slug = problemSlug(problem.type);
  const title = STATUS_TITLES_ZH[problem.status] ?? problem.title;
  const notFound = problem.status === 404 ? NOT_FOUND_ZH[slug] : undefined;
  // The catalogue's gist when no sentence here fits better: a Chinese reader never gets English prose for a known type.
  const detail = DETAILS_ZH[slug]?.(problem) ?? (notFound ? `未找到该${notFound}` : (PROBLEM_TYPES[slug]?.zh ?? problem.detail));
  return { ...problem, title, detail };
}
