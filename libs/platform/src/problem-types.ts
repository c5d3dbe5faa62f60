/**
 * Every problem `type` the API answers with (the slug after
 * https://problems.trace.dev/): its status, what it means in English and
 * Chinese, and what the caller can do about it. docs/errors.md is generated
 * from this table (`npm run docs:errors`), and
 * tests/integration/problem-catalogue.int.ts fails when the code raises a type
 * that is missing here (or this table keeps one the code no longer raises).
 * The Chinese meaning is also the `detail` a Chinese reader gets for a type
 * that messages.ts has no more specific sentence for.
 */
export interface ProblemTypeDoc {
  /** The status(es) the type is sent with. */
  status: number | number[];
  en: string;
  zh: string;
  /** What the caller does next. */
  action: string;
}

/** The generic types Nest and the body parser produce from a bare HTTP status (problem.ts slugFor). */
export const STATUS_PROBLEM_TYPES = [
  'bad-request',
  'unauthorized',
  'forbidden',
  'not-found',
  'method-not-allowed',
  'not-acceptable',
  'payload-too-large',
  'unsupported-media-type',
  'too-many-requests',
  'service-unavailable',
] as const;

export const PROBLEM_TYPES: Record<string, ProblemTypeDoc> = {
  // ── Request form (400) ───────────────────────────────────────────────
  validation: { status: 400, en: 'A field is missing, of the wrong type, unknown or out of range', zh: '请求不符合要求，请检查 errors 中列出的字段', action: 'Fix the fields listed in `errors[]` (`field` is a dotted path) and send again.' },
  'bad-request': { status: 400, en: 'The request cannot be read', zh: '请求无法解析', action: 'Check the method, path and body against /docs.' },
  'malformed-json': { status: 400, en: 'The body is not valid JSON', zh: '请求体不是合法的 JSON', action: 'Send a JSON body (check quotes and commas).' },
  'unknown-parameter': { status: 400, en: 'A query parameter this list does not take', zh: '请求包含不支持的查询参数', action: 'Remove the parameter; the list’s parameters are in /docs.' },
  'invalid-parameter': { status: 400, en: 'A query parameter has an invalid value', zh: '查询参数的值无效', action: 'Fix the parameter named in `errors[]`.' },
  path: { status: 400, en: 'The path contains dot segments', zh: '路径中不能包含 . 或 .. 段', action: 'Call the path without `.` or `..` segments.' },
  gtin: { status: 400, en: 'Not a GTIN-8/12/13/14 with a valid check digit', zh: 'GTIN 无效（须为 8/12/13/14 位且校验位正确）', action: 'Send the GTIN printed under the barcode; the detail names the expected check digit.' },
  gln: { status: 400, en: 'Not a 13-digit GLN with a valid check digit', zh: 'GLN 无效（须为 13 位且校验位正确）', action: 'Send the location’s (or organisation’s) 13-digit GLN or leave it out.' },
  'digital-link': { status: 400, en: 'Not a GS1 Digital Link naming a lot (AI 10) or a serial (AI 21)', zh: '不是有效的 GS1 数字链接（须包含批号 AI 10 或序列号 AI 21）', action: 'Scan the code again; the link is /01/{gtin}/10/{lot} or /01/{gtin}/21/{serial}.' },
  category: { status: 400, en: 'Not one of the domain’s product categories', zh: '产品类别不在本领域的类别清单中', action: 'Use a `code` from GET /v1/{domain}/categories.' },
  'biz-step': { status: 400, en: 'Not a CBV 2.0 business step', zh: '不是 CBV 2.0 规定的业务步骤', action: 'Use a CBV 2.0 bizStep such as `shipping`, `receiving`, `retail_selling`.' },
  disposition: { status: 400, en: 'Not a CBV 2.0 disposition', zh: '不是 CBV 2.0 规定的处置状态', action: 'Use a CBV 2.0 disposition such as `in_transit` or leave it out.' },
  'event-time': { status: 400, en: 'eventTime lies in the future', zh: '事件时间晚于当前时间', action: 'Send the time the event happened, with its UTC offset.' },
  expiry: { status: 400, en: 'expiresAt is not after producedAt', zh: '有效期须晚于生产日期', action: 'Correct producedAt or expiresAt.' },
  inputs: { status: 400, en: 'An input batch is listed twice', zh: '同一原料批次被列出两次', action: 'List each input once, with the total quantity taken.' },
  'sampled-at': { status: 400, en: 'sampledAt lies in the future', zh: '抽样时间晚于当前时间', action: 'Send the time the sample was taken.' },
  'aware-at': { status: 400, en: 'awareAt lies in the future', zh: '知悉时间晚于当前时间', action: 'Send when your organisation learned of the incident.' },
  'occurred-at': { status: 400, en: 'occurredAt lies after awareAt', zh: '发生时间晚于知悉时间', action: 'An incident occurs before anyone learns of it: correct one of the two times.' },
  'calendar-day': { status: 400, en: 'Not a date YYYY-MM-DD', zh: '日期格式须为 YYYY-MM-DD', action: 'Send the day as YYYY-MM-DD.' },
  depth: { status: 400, en: 'depth is out of range', zh: '追溯深度超出范围', action: 'Send a depth within the range the detail names.' },
  domain: { status: 400, en: 'Not one of agri, food, drug, material, goods', zh: '领域须为 agri、food、drug、material、goods 之一', action: 'Use one of the five domains.' },
  'qr-format': { status: 400, en: 'format is not png or svg', zh: '二维码格式须为 png 或 svg', action: 'Ask for `?format=png` or `?format=svg`.' },
  'certificate-number': { status: 400, en: 'Not a certificate number', zh: '合格证编号格式不正确', action: 'Send the number printed on the certificate (like AC20261120-7K3QX9PM).' },
  'certificate-basis': { status: 400, en: 'The certificate’s basis is not one of the allowed', zh: '合格证的承诺依据不在允许范围内', action: 'Use one of the bases the detail lists.' },
  'certificate-commitments': { status: 400, en: 'The certificate’s commitments are missing, too long or repeated', zh: '合格证须列出至少一项承诺，每项 1–200 字且不重复', action: 'State each commitment once, 1–200 characters.' },
  'certificate-contact': { status: 400, en: 'The certificate has no contact', zh: '合格证须填写联系方式', action: 'Add the producer’s contact.' },
  'certificate-origin': { status: 400, en: 'The certificate has no origin', zh: '合格证须填写产地', action: 'Add where the product was grown or raised.' },
  'ccc-format': { status: 400, en: 'attributes.cccCertificate is not a CCC certificate number', zh: 'CCC 认证证书编号格式不正确', action: 'Send the CCC certificate number as printed.' },
  'standard-format': { status: 400, en: 'attributes.standard is not a text of 1–100 characters', zh: '产品标准须为 1–100 字的文本', action: 'Send the product standard, e.g. GB 175-2023.' },
  'grade-format': { status: 400, en: 'attributes.grade is not a text of 1–100 characters', zh: '等级须为 1–100 字的文本', action: 'Send the grade, e.g. P·O 42.5.' },
  'unit-code': { status: 400, en: 'Not a drug trace code (20 digits) nor a GS1 unit code', zh: '不是有效的药品追溯码（20 位）或 GS1 单品码', action: 'Send the code as printed on the pack.' },
  'unit-code-check': { status: 400, en: 'A drug trace code with a wrong check digit', zh: '药品追溯码校验位错误', action: 'Scan the code again; a digit was misread.' },
  'duplicate-code': { status: [400, 409], en: 'A unit code listed twice (400) or registered already (409)', zh: '追溯码重复或已登记', action: 'Send each code once; codes registered already are listed in the detail.' },
  'codes-or-count': { status: 400, en: 'Neither or both of codes and count', zh: '须且只能提供 codes 或 count 其中之一', action: 'Send `codes` to register printed codes, or `count` to have them generated.' },
  'idempotency-key': { status: 400, en: 'The Idempotency-Key header is not 1–200 printable characters', zh: 'Idempotency-Key 须为 1–200 个可打印字符', action: 'Send a UUID as the key.' },
  'capture-error-behaviour': { status: 400, en: 'GS1-Capture-Error-Behaviour is not rollback or proceed', zh: 'GS1-Capture-Error-Behaviour 须为 rollback 或 proceed', action: 'Send `rollback` (default) or `proceed`.' },
  'epcis-document': { status: 400, en: 'The body is not an EPCISDocument', zh: '请求体不是 EPCISDocument', action: 'Send an EPCIS 2.0 JSON document with `type: EPCISDocument`.' },
  'epcis-schema': { status: 400, en: 'The document does not validate against the EPCIS 2.0 JSON Schema', zh: '文档不符合 EPCIS 2.0 JSON Schema', action: 'Fix the places `errors[]` points at (JSON pointers).' },
  'epcis-capture': { status: 400, en: 'A captured event was not stored', zh: 'EPCIS 事件未能保存', action: 'Read the reasons in `errors[]`, fix the event and capture it again.' },
  'epcis-subscription': { status: 400, en: 'The EPCIS query subscription is not valid', zh: 'EPCIS 查询订阅无效', action: 'Fix the members in `errors[]`: dest (http/https URL), either stream: true or a schedule (second, minute, hour, dayOfMonth, month, dayOfWeek: a number, a [low-high] range or a comma list of those), reportIfEmpty (boolean, with a schedule), signatureToken (string).' },
  'epcis-query': { status: 400, en: 'The EPCIS query parameters are not valid', zh: 'EPCIS 查询参数无效', action: 'Fix the parameters in `errors[]` (EPCIS 2.0 query names).' },
  'epcis-apply': { status: 400, en: 'Internal EPCIS apply call without events, captureId or recordTime', zh: '内部 EPCIS 写入请求缺少字段', action: 'Internal route: a service sends events, captureId and recordTime.' },
  'epcis-resolve': { status: 400, en: 'Internal EPCIS resolve call with malformed lists', zh: '内部 EPCIS 解析请求格式有误', action: 'Internal route: gtins and objects must be arrays.' },
  'gtin-claim': { status: 400, en: 'Internal GTIN claim without gtin, orgId or domain', zh: '内部 GTIN 登记请求缺少字段', action: 'Internal route: send gtin (GTIN-14), orgId and domain.' },
  item: { status: 400, en: 'Internal item look-up without a GTIN-14 and a kind', zh: '内部单品查询缺少 GTIN 或类型', action: 'Internal route: send a GTIN-14 and lot or serial.' },
  'item-claim': { status: 400, en: 'Internal item claim missing a field', zh: '内部单品登记请求缺少字段', action: 'Internal route: every claim needs gtin, kind, value, domain and orgId.' },
  'import-file': { status: 400, en: 'The uploaded file cannot be read as CSV or Excel (.xlsx)', zh: '上传的文件无法按 CSV 或 Excel（.xlsx）读取', action: 'Send a UTF-8 CSV (text/csv) or an .xlsx workbook whose first sheet holds the rows.' },
  'import-columns': { status: 400, en: 'The header row has an unknown column or no gtin column', zh: '表头含未知列或缺少 gtin 列', action: 'Use the columns the detail lists (and attributes.<name>).' },
  'import-empty': { status: 400, en: 'The file has a header row but no data rows', zh: '文件只有表头，没有数据行', action: 'Add the rows to import.' },
  'webhook-url-refused': { status: 400, en: 'The webhook URL is not allowed (credentials in it, not https, or a private address)', zh: 'Webhook 地址不被允许（含用户名密码、非 https 或指向内网地址）', action: 'Use a public https URL without user name or password; verify deliveries by their signature.' },

  // ── Authentication (401) ─────────────────────────────────────────────
  unauthorized: { status: 401, en: 'No token, or a malformed, expired or revoked one', zh: '缺少或无效的访问令牌', action: 'Get a token with POST /v1/auth/token and send `Authorization: Bearer <accessToken>`.' },
  'invalid-client': { status: 401, en: 'Unknown client or wrong secret', zh: '客户端 ID 或密钥错误', action: 'Check clientId and clientSecret; repeated failures slow further tries down.' },

  // ── Permission (403) ─────────────────────────────────────────────────
  role: { status: 403, en: 'Your role may not do this', zh: '当前角色无权执行此操作', action: 'Use a client of the role the detail names (operator, inspector, regulator, admin).' },
  forbidden: { status: 403, en: 'Not allowed', zh: '无权执行此操作', action: 'Use a client that may do this.' },
  'service-only': { status: 403, en: 'An internal route called without a service credential', zh: '内部接口仅供服务间调用', action: 'Call the public route instead.' },
  'location-org': { status: 403, en: 'An operator creates locations of its own organisation only', zh: '操作员只能为本组织创建地点', action: 'Leave `orgId` out, or ask an admin.' },
  'not-the-holder': { status: 403, en: 'Your organisation holds none of this batch', zh: '贵组织当前未持有该批次，不能记录此事件', action: 'Only the holder records events; receive the batch first.' },
  'not-the-receiver': { status: 403, en: 'Nothing of this batch is in transit to your organisation', zh: '该批次没有发往贵组织的在途数量', action: 'Check GET /v1/shipments/incoming; only the named receiver receives.' },
  'not-the-consumer': { status: 403, en: 'Only the organisation that took an input may give it back', zh: '只有取用该原料的组织才能退回', action: 'Restore with a client of the organisation that consumed the input.' },
  'not-in-scope': { status: 403, en: 'The batch or recall does not concern your organisation', zh: '该批次或召回不在贵组织可操作的范围内', action: 'Act only on batches your organisation holds.' },
  'incident-not-responsible': { status: 403, en: 'Your organisation is not responsible for this incident’s report', zh: '贵组织不是该事件报告的责任方', action: 'The organisation responsible for the batch files the report.' },
  'dispenser-kind': { status: 403, en: 'Only a pharmacy or a hospital dispenses', zh: '只有药店或医院可以发药', action: 'Dispense with a client of a pharmacy or hospital organisation.' },

  // ── Not found (404) ──────────────────────────────────────────────────
  'not-found': { status: 404, en: 'No such route or resource', zh: '资源不存在', action: 'Check the path against /docs.' },
  batch: { status: 404, en: 'No such batch (or not visible to you)', zh: '未找到该批次', action: 'Check the id; an operator sees only batches its organisation holds or held.' },
  product: { status: 404, en: 'No such product', zh: '未找到该产品', action: 'Check the id or list products with GET /v1/{domain}/products.' },
  organisation: { status: [404, 422], en: 'No such organisation', zh: '未找到该组织', action: 'Check the organisation id (GET /v1/orgs).' },
  location: { status: 404, en: 'No such location', zh: '未找到该地点', action: 'Check the id (GET /v1/locations).' },
  client: { status: 404, en: 'No such client', zh: '未找到该客户端', action: 'Check the client id of the organisation.' },
  certificate: { status: 404, en: 'No such certificate', zh: '未找到该合格证', action: 'Check the number printed on the certificate.' },
  release: { status: 404, en: 'The batch has no batch release', zh: '该批次尚无批签发记录', action: 'Record the release with POST /v1/drug/batches/{id}/release.' },
  case: { status: 404, en: 'No such case', zh: '未找到该案件', action: 'Check the id (GET /v1/cases).' },
  recall: { status: 404, en: 'No such recall', zh: '未找到该召回', action: 'Check the id (GET /v1/recalls).' },
  incident: { status: 404, en: 'No such incident', zh: '未找到该事件报告', action: 'Check the id (GET /v1/incidents).' },
  webhook: { status: 404, en: 'No such webhook subscription', zh: '未找到该 Webhook 订阅', action: 'Check the id (GET /v1/webhooks).' },
  'traceability-lot': { status: 404, en: 'No such traceability lot', zh: '未找到该可追溯批次', action: 'Check GTIN and lot.' },
  'epcis-event': { status: 404, en: 'No such EPCIS event', zh: '未找到该 EPCIS 事件', action: 'Check the eventID.' },
  'epcis-resource': { status: 404, en: 'No such EPCIS resource', zh: '未找到该 EPCIS 资源', action: 'GET /v1/epcis lists the resources.' },
  'epcis-headers': { status: 400, en: 'A GS1 request header of the EPCIS binding is malformed', zh: 'EPCIS 绑定的 GS1 请求头格式错误', action: 'Versions are digits separated by dots (`GS1-EPCIS-Version: 2.0.0`), Min not above Max; GS1-CBV-XML-Format is No_Preference, Always_Web_URI, Always_URN or Never_Translates; GS1-EPC-Format is No_Preference, Always_GS1_Digital_Link, Always_EPC_URN or Never_Translates.' },
  'epcis-extensions': { status: 400, en: 'The GS1-Extensions header is malformed', zh: 'GS1-Extensions 请求头格式错误', action: 'Send comma-separated prefix=namespace-IRI pairs, e.g. `GS1-Extensions: trace=https://ns.trace.dev/epcis/`.' },
  'epcis-query-name': { status: 404, en: 'Your organisation has no EPCIS query of this name', zh: '本组织没有该名称的 EPCIS 查询', action: 'GET /v1/epcis/queries lists them.' },
  'epcis-subscription-id': { status: 404, en: 'Your organisation has no such subscription to this EPCIS query', zh: '本组织没有该 EPCIS 查询订阅', action: 'GET /v1/epcis/queries/{name}/subscriptions lists them.' },
  import: { status: 404, en: 'No such import job of your organisation', zh: '未找到该导入任务', action: 'Use the id POST /v1/{domain}/imports answered.' },
  'capture-job': { status: 404, en: 'No such capture job', zh: '未找到该 EPCIS 采集任务', action: 'Use the id from the Location header of the capture.' },

  // ── Method, format, size (405, 406, 413, 415) ────────────────────────
  'method-not-allowed': { status: 405, en: 'The route does not take this method', zh: '该接口不支持此请求方法', action: 'Check the method in /docs.' },
  'not-acceptable': { status: 406, en: 'The route cannot answer in the type the Accept header asks for', zh: '无法提供 Accept 所要求的格式', action: 'Ask for a type the detail names.' },
  'payload-too-large': { status: 413, en: 'The body is too large', zh: '请求体过大', action: 'Send a smaller body (split the batch of events).' },
  'concurrent-capture': { status: 409, en: 'Another capture stored some of the same events, or created their lots, at the same time', zh: '另一次采集同时写入了相同的事件或批次', action: 'Nothing: the capture plans the document again by itself (its job names this only if that kept happening); then capture it again, stored events are de-duplicated.' },
  'epcis-too-large': { status: 413, en: 'More events than one capture takes', zh: '单次采集的事件数超过上限', action: 'Split the document; the limit is in GS1-EPCIS-Capture-Limit.' },
  'import-too-large': { status: 413, en: 'More rows than one import takes', zh: '导入的行数超过上限', action: 'Split the file.' },
  'query-too-large': { status: 413, en: 'More events match than the query may return', zh: '匹配的事件过多', action: 'Narrow the query (time range, EPC) or raise maxEventCount within the limit.' },
  'unsupported-media-type': { status: 415, en: 'The body is not JSON', zh: '请求体须为 JSON（Content-Type: application/json）', action: 'Send `Content-Type: application/json`.' },

  // ── State conflicts (409) ────────────────────────────────────────────
  'epcis-query-exists': { status: 409, en: 'Your organisation has an EPCIS query of this name already', zh: '本组织已有同名的 EPCIS 查询', action: 'Choose another name, or DELETE /v1/epcis/queries/{name} first.' },
  'duplicate-gtin': { status: 409, en: 'This product (GTIN) is registered already in this domain', zh: '该 GTIN 已登记', action: 'Use the existing product (GET /v1/{domain}/products?gtin=).' },
  'gtin-taken': { status: 409, en: 'The GTIN belongs to another organisation', zh: '该 GTIN 已属于其他组织', action: 'Register a GTIN your organisation owns (its GS1 company prefix).' },
  'duplicate-lot': { status: 409, en: 'This GTIN + lot is a batch already, in this or another domain', zh: '该 GTIN 下已有相同批号的批次', action: 'Use a new lot number, or find the batch (GET /v1/search?q=).' },
  'organisation-gln-taken': { status: 409, en: 'Another organisation has this party GLN', zh: '该参与方 GLN 已属于其他组织', action: 'A GLN names one party: use the organisation named in `existingOrgId`, or this organisation’s own GLN.' },
  'organisation-name-taken': { status: 409, en: 'An organisation of this kind has this name already', zh: '同类型下已有同名组织', action: 'Use the organisation named in `existingOrgId`, or another name.' },
  'duplicate-report-no': { status: 409, en: 'An inspection with this report number is recorded already', zh: '该检验报告编号已存在', action: 'Each report number is recorded once; check the batch’s inspections.' },
  'duplicate-release-number': { status: 409, en: 'The release number is used for another batch', zh: '该批签发编号已用于其他批次', action: 'Check the number on the release certificate.' },
  'idempotency-key-in-flight': { status: 409, en: 'A request with this Idempotency-Key is still running', zh: '使用该 Idempotency-Key 的请求仍在处理中', action: 'Retry shortly with the same key.' },
  'batch-held': { status: 409, en: 'The batch is held after a failed sample', zh: '该批次因抽检不合格被暂控，不能流转', action: 'Wait for a passing re-test (or a regulator’s decision) before moving it.' },
  'batch-recalled': { status: 409, en: 'The batch is recalled', zh: '该批次已被召回，只能退回、接收退货或销毁', action: 'Only returns, receiving returns and destruction are allowed.' },
  'batch-destroyed': { status: 409, en: 'The batch is destroyed: its chain is closed', zh: '该批次已销毁', action: 'Nothing more can be recorded on it.' },
  'batch-dispensed': { status: 409, en: 'The batch is dispensed in full', zh: '该批次已全部发药', action: 'Nothing more can be recorded on it.' },
  'batch-expired': { status: 409, en: 'The batch is past its expiry', zh: '该批次已过期', action: 'An expired drug is not sold or dispensed; destroy it.' },
  'in-transit': { status: 409, en: 'The batch is shipped already', zh: '该批次已发货', action: 'Issue the certificate before shipping.' },
  'certificate-exists': { status: 409, en: 'The batch has its certificate already', zh: '该批次已开具合格证', action: 'GET the certificate instead of issuing another.' },
  'already-released': { status: 409, en: 'The batch is released already', zh: '该批次已取得批签发', action: 'Nothing to do: GET /v1/drug/batches/{id}/release shows it.' },
  'code-dispensed': { status: 409, en: 'The unit code was dispensed already', zh: '该追溯码已发药，不能重复使用', action: 'A pack is dispensed once; check for a counterfeit.' },
  'certificate-required': { status: 409, en: 'This agri category ships only with a compliance certificate', zh: '该类别的产品须先开具承诺达标合格证才能发货', action: 'POST /v1/agri/batches/{id}/certificate, then ship.' },
  'batch-release-required': { status: 409, en: 'A vaccine ships only after batch release', zh: '该疫苗批次须先取得批签发才能发货', action: 'POST /v1/drug/batches/{id}/release, then ship.' },
  'insufficient-quantity': { status: 409, en: 'Your organisation holds less than the quantity asked', zh: '持有数量不足', action: 'Move or take at most what you hold (GET the batch shows holdings).' },
  'mass-balance': { status: 409, en: 'The quantities would exceed what was produced', zh: '数量合计超过生产数量', action: 'Check the quantities; record a correction if an earlier event was wrong.' },
  'not-in-transit': { status: 409, en: 'Nothing of this batch is in transit', zh: '该批次没有在途数量', action: 'Receive after the sender has shipped.' },
  'already-restored': { status: 409, en: 'This input was given back already', zh: '该原料已退回', action: 'Nothing to do.' },
  'output-exists': { status: 409, en: 'The output was made: its inputs stay taken', zh: '产出批次已生成，原料不能退回', action: 'Record a correction on the output instead.' },
  'already-recalled': { status: 409, en: 'The batch is under an active recall already', zh: '该批次已在进行中的召回范围内', action: 'Follow the recall named in `recallId`.' },
  'recall-closed': { status: 409, en: 'The recall is closed', zh: '该召回已结束', action: 'Nothing more can be recorded on it.' },
  'recall-scope-grew': { status: 409, en: 'The recall’s scope grew since you looked', zh: '召回范围刚刚扩大，请先通知新增批次的持有方', action: 'GET the recall, notify the new holders, then close again.' },
  'case-not-open': { status: 409, en: 'The case is closed', zh: '该案件已结案', action: 'Nothing more can be done on it.' },
  'case-recalled': { status: 409, en: 'The case became a recall already', zh: '该案件已转为召回', action: 'Follow the recall named in `recallId`.' },
  'no-recall': { status: 409, en: 'No recall covers the case’s batch yet', zh: '尚无召回覆盖该案件的批次，请先发起召回', action: 'POST /v1/cases/{id}/recall first.' },
  'incident-already-reported': { status: 409, en: 'The incident has its report already', zh: '该事件已上报', action: 'Nothing to do.' },
  'retest-window-closed': { status: 409, en: 'The re-test window of the failed result has closed', zh: '不合格结果的复检期限已过，暂控须由监管部门决定', action: 'Ask the regulator to decide the case (POST /v1/cases/{id}/close).' },
  'retest-already-cleared': { status: 409, en: 'A passing re-test cleared the failed result already', zh: '该不合格结果已由复检结案', action: 'Nothing to do.' },

  // ── Refers to what does not exist or does not fit (422) ─────────────
  'unknown-product': { status: 422, en: 'No product with this GTIN in this domain', zh: '未知的产品，请先登记产品', action: 'POST /v1/{domain}/products first.' },
  'unknown-batch': { status: 422, en: 'A named batch is not known', zh: '未知的批次', action: 'Check the batch id and domain.' },
  'unknown-input': { status: 422, en: 'An input batch does not exist in its domain', zh: '未知的原料批次', action: 'Check the input’s batchId and domain.' },
  'unknown-location': { status: 422, en: 'No such location', zh: '未知的地点', action: 'POST /v1/locations first, or check the id.' },
  'unknown-organisation': { status: 422, en: 'No such organisation', zh: '未知的组织', action: 'Check toOrgId (GET /v1/orgs).' },
  'unknown-code': { status: 422, en: 'The unit code is not registered', zh: '该追溯码未登记', action: 'The pack may be counterfeit; report it.' },
  'unknown-object': { status: 422, en: 'An EPCIS event names an object that is not a batch here and cannot be created from it', zh: 'EPCIS 事件中的对象不是已登记的批次，且无法据此创建', action: 'Capture its ObjectEvent ADD (with a quantity) first.' },
  'location-owner': { status: 422, en: 'The location belongs to another organisation', zh: '该地点属于其他组织', action: 'Use one of your organisation’s locations.' },
  'product-owner': { status: 422, en: 'The product (GTIN) belongs to another organisation', zh: '该产品属于其他组织', action: 'Register batches of your own products.' },
  'role-org-kind': { status: 422, en: 'A client of this role cannot belong to an organisation of this kind', zh: '该角色的客户端不能属于此类型的组织', action: 'Use a role listed in `allowedRoles`.' },
  'exceeds-holding': { status: 422, en: 'The acknowledged quantities exceed what your organisation held of the batch', zh: '确认数量超过贵组织持有的数量', action: 'Account for at most the `held` quantity.' },
  'org-kind': { status: 422, en: 'Not an organisation kind', zh: '组织类型无效', action: 'Use a kind the detail lists.' },
  'unit-mismatch': { status: 422, en: 'The unit differs from the batch’s', zh: '计量单位与批次不一致', action: 'Use the batch’s unit.' },
  quantity: { status: 422, en: 'A quantity moved or taken must be positive', zh: '数量须大于零', action: 'Send a positive quantity.' },
  'shipping-receiver': { status: 422, en: 'Shipping without toOrgId', zh: '发货须指明收货组织（toOrgId）', action: 'Name the receiving organisation.' },
  'compensation-mismatch': { status: 422, en: 'A restore must give back exactly what was taken', zh: '退回数量须与取用数量一致', action: 'Restore the consume event as it was.' },
  'not-a-consume': { status: 422, en: 'A restore names no input taken for this batch', zh: '退回须指向本批次的一次原料取用', action: 'Name the consume event to give back.' },
  'food-input-domain': { status: 422, en: 'A food batch is made from agri or food inputs only', zh: '食品批次的原料只能来自食用农产品或食品', action: 'Check the inputs’ domains.' },
  'code-gtin-mismatch': { status: 422, en: 'A unit code carries another GTIN than the batch', zh: '追溯码中的 GTIN 与批次不符', action: 'Register the code on its own batch.' },
  'code-lot-mismatch': { status: 422, en: 'A unit code carries another lot than the batch', zh: '追溯码中的批号与批次不符', action: 'Register the code on its own batch.' },
  'code-product-mismatch': { status: 422, en: 'A drug trace code names another product', zh: '追溯码对应的产品与批次不符', action: 'Register the code on its own batch.' },
  'ccc-required': { status: 422, en: 'This goods category needs a CCC certificate number', zh: '该类别的商品须提供 CCC 认证编号', action: 'Send attributes.cccCertificate.' },
  'standard-required': { status: 422, en: 'A building material states its product standard', zh: '建筑材料须注明产品标准', action: 'Send attributes.standard.' },
  'grade-required': { status: 422, en: 'This material category states its grade', zh: '该类建筑材料须注明等级', action: 'Send attributes.grade.' },
  'inspection-conclusion': { status: 422, en: 'The conclusion contradicts the items', zh: '检验结论与检验项目不符', action: 'Name the failing item, or conclude `pass`.' },
  'retest-of': { status: 422, en: 'retestOf is not a failed inspection of this batch', zh: '复检对象不是本批次的不合格检验', action: 'Name the failed inspection’s id.' },
  'retest-sampled-before': { status: 422, en: 'A re-test sampled before the result it re-tests', zh: '复检抽样时间早于原检验', action: 'Check sampledAt.' },
  'batch-not-in-scope': { status: 422, en: 'The batch is not in this recall', zh: '该批次不在本次召回范围内', action: 'Acknowledge a batch of the recall (GET /v1/recalls/{id}).' },
  'incident-lot-required': { status: 422, en: 'The lot is needed to find who must report', zh: '须提供批号以确定报告责任方', action: 'Send the lot.' },
  'incident-unknown-batch': { status: 422, en: 'No batch of this GTIN and lot in that domain', zh: '该领域中没有此 GTIN 和批号的批次', action: 'Check GTIN, lot and domain.' },
  'too-many-subscriptions': { status: 422, en: 'The organisation has the most EPCIS query subscriptions allowed', zh: 'EPCIS 查询订阅数量已达上限', action: 'Delete a subscription first.' },
  'too-many-webhooks': { status: 422, en: 'The organisation has the most webhook subscriptions allowed', zh: 'Webhook 订阅数量已达上限', action: 'Delete a subscription first.' },
  'idempotency-key-reused': { status: 422, en: 'The Idempotency-Key was used for another request', zh: '该 Idempotency-Key 已用于另一个请求', action: 'Use a new key for a new request.' },

  // ── Rate limits (429) ────────────────────────────────────────────────
  'rate-limited': { status: 429, en: 'Too many requests from this address', zh: '请求过于频繁，请稍后重试', action: 'Wait the seconds in `Retry-After` (also `retryAfter`).' },
  'token-endpoint-busy': { status: 429, en: 'Too many sign-ins at once', zh: '同时登录的请求过多', action: 'Retry after 1 s; reuse a token until it expires.' },
  'too-many-requests': { status: 429, en: 'Too many requests', zh: '请求过于频繁', action: 'Wait the seconds in `Retry-After`.' },

  // ── The server (500, 501, 503) ────────────────────────────────────────────
  internal: { status: 500, en: 'An unexpected error (logged with the correlation id)', zh: '发生意外错误，已记录日志', action: 'Retry; if it persists, report the X-Correlation-Id.' },
  'not-implemented': { status: 501, en: 'This optional part of the standard is not implemented here', zh: '本系统未实现该可选功能', action: 'See the README’s EPCIS conformance table for what is supported.' },
  'database-conflict': { status: 503, en: 'The request met a concurrent one and was rolled back; nothing was written', zh: '请求与并发请求冲突，已回滚，未写入任何数据', action: 'Send the same request again after `Retry-After` (1 s).' },
  'service-unavailable': { status: 503, en: 'The service is not ready', zh: '服务暂不可用', action: 'Retry shortly.' },
  'domain-unavailable': { status: 503, en: 'A domain service does not answer', zh: '领域服务暂不可用', action: 'Retry shortly.' },
  'identity-unavailable': { status: 503, en: 'Organisations, locations or identifiers cannot be checked right now', zh: '身份服务暂不可用', action: 'Retry shortly.' },
  'lineage-unavailable': { status: 503, en: 'The recall scope cannot be computed right now', zh: '溯源图服务暂不可用', action: 'Retry shortly.' },
  'audit-unavailable': { status: 503, en: 'A service did not answer for its part of the audit log', zh: '审计日志暂不可用', action: 'Retry shortly.' },
  'upstream-unavailable': { status: 503, en: 'The gateway could not reach the service', zh: '网关无法连接后端服务', action: 'Retry shortly.' },
};

/** The slug of a problem type URI. */
export const problemSlug = (type: string) => type.replace(/^https:\/\/problems\.trace\.dev\//, '');
