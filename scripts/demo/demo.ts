/**
 * npm run demo [-- --url http://host:8080 --admin-id admin --admin-secret … --json]
 *
 * Fills a running instance, through the public API only, with a small but
 * realistic multi-domain data set, and prints the clients it created (their
 * secrets are shown only here). See docs/demo-and-import.md.
 */
import { randomInt } from 'node:crypto';
import { gs1CheckDigit } from '@trace/gs1';
import { ApiError, Client, DEFAULT_URL, option } from '../cli/client';

const argv = process.argv.slice(3);
const baseUrl = (option(argv, 'url', 'TRACE_URL', DEFAULT_URL) as string).replace(/\/+$/, '');
const adminId = option(argv, 'admin-id', 'TRACE_ADMIN_CLIENT_ID') ?? process.env.BOOTSTRAP_ADMIN_CLIENT_ID ?? 'admin';
const adminSecret = option(argv, 'admin-secret', 'TRACE_ADMIN_CLIENT_SECRET') ?? process.env.BOOTSTRAP_ADMIN_CLIENT_SECRET;
const asJson = argv.includes('--json');

/** Progress goes to stderr; stdout holds only the result (a table, or JSON with --json). */
const say = (line: string) => process.stderr.write(`${line}\n`);

/** A time `hoursAgo` before now, written in China time with its offset (the API wants the offset). */
function cst(hoursAgo: number): string {
  const t = new Date(Date.now() - hoursAgo * 3_600_000 + 8 * 3_600_000);
  return `${t.toISOString().slice(0, 19)}+08:00`;
}

// One run's identifiers: GS1 China prefix 69, five digits of this run, an item number, the check digit.
const runDigits = String(randomInt(0, 100_000)).padStart(5, '0');
const tag = runDigits;
const gtin = (item: number) => {
  const data = `69${runDigits}${String(item).padStart(5, '0')}`;
  return `${data}${gs1CheckDigit(data)}`;
};

interface Org {
  name: string;
  kind: string;
  role: 'operator' | 'inspector' | 'regulator';
  id: string;
  clientId: string;
  clientSecret: string;
  api: Client;
  locations: Record<string, string>;
}

async function main() {
  if (!adminSecret) {
    throw new Error(
      'the admin client secret is needed: --admin-secret … (or TRACE_ADMIN_CLIENT_SECRET, or BOOTSTRAP_ADMIN_CLIENT_SECRET); ' +
        'npm start printed it on its first start',
    );
  }
  const anonymous = new Client(baseUrl);
  const admin = await anonymous.signIn(adminId, adminSecret);
  say(`demo: filling ${baseUrl} (run ${tag})`);
  const orgs: Org[] = [];

  /** An organisation, its client (secret kept for the summary), its token and its premises. */
  async function org(name: string, kind: string, role: Org['role'], premises: { name: string; kind: string; region: string; address: string }[] = []): Promise<Org> {
    let r = await admin.send('POST', '/v1/orgs', { name, kind });
    // Names are unique per kind: a second run on the same instance tells its organisations apart by the run.
    if (r.status === 409) {
      name = `${name} (${tag})`;
      r = await admin.send('POST', '/v1/orgs', { name, kind });
    }
    if (r.status !== 201) throw new ApiError(r.status, r.body, `POST /v1/orgs ${name}`);
    const id = r.body.id as string;
    const client = await admin.post(`/v1/orgs/${id}/clients`, { role });
    const api = await anonymous.signIn(client.clientId, client.clientSecret);
    const locations: Record<string, string> = {};
    for (const p of premises) locations[p.kind] = (await api.post('/v1/locations', p)).id;
    const o = { name, kind, role, id, clientId: client.clientId, clientSecret: client.clientSecret, api, locations };
    orgs.push(o);
    say(`  organisation ${name} (${kind}), client ${client.clientId}`);
    return o;
  }

  // ---------------------------------------------------------------- who
  const farm = await org('青山农场 Green Hill Farm', 'producer', 'operator', [
    { name: '青山农场 寿光一号棚 Greenhouse 1', kind: 'farm', region: 'CN-37', address: '山东省潍坊市寿光市孙家集街道' },
  ]);
  const coop = await org('金麦农业合作社 Golden Wheat Cooperative', 'producer', 'operator', [
    { name: '金麦合作社 滑县麦田 Wheat fields', kind: 'field', region: 'CN-41', address: '河南省安阳市滑县' },
  ]);
  const foods = await org('鲁味食品有限公司 Luwei Foods', 'processor', 'operator', [
    { name: '鲁味食品 济南工厂 Jinan plant', kind: 'factory', region: 'CN-37', address: '山东省济南市章丘区' },
  ]);
  const market = await org('华联超市 Hualian Supermarket', 'retailer', 'operator', [
    { name: '华联超市 朝阳门店 Chaoyangmen store', kind: 'store', region: 'CN-11', address: '北京市东城区朝阳门内大街' },
  ]);
  const pharma = await org('康恒制药 Kangheng Pharmaceutical', 'producer', 'operator', [
    { name: '康恒制药 苏州工厂 Suzhou plant', kind: 'factory', region: 'CN-32', address: '江苏省苏州市工业园区' },
  ]);
  const pharmacy = await org('仁心大药房 Renxin Pharmacy', 'pharmacy', 'operator', [
    { name: '仁心大药房 人民路店 Renmin Road', kind: 'pharmacy', region: 'CN-32', address: '江苏省苏州市姑苏区人民路' },
  ]);
  const hospital = await org('苏州市第一人民医院 Suzhou No.1 Hospital', 'hospital', 'operator', [
    { name: '苏州市第一人民医院 预防接种门诊 Vaccination clinic', kind: 'hospital', region: 'CN-32', address: '江苏省苏州市姑苏区十梓街' },
  ]);
  const cementWorks = await org('东岳水泥厂 Dongyue Cement Works', 'processor', 'operator', [
    { name: '东岳水泥厂 泰安厂区 Tai\'an works', kind: 'factory', region: 'CN-37', address: '山东省泰安市岱岳区' },
  ]);
  const builder = await org('城建集团 City Construction Group', 'construction_company', 'operator', [
    { name: '城建集团 滨河花园三期工地 Riverside Gardens phase 3', kind: 'construction_site', region: 'CN-37', address: '山东省济南市历下区滨河路' },
  ]);
  const toys = await org('乐童玩具 Happy Kids Toys', 'producer', 'operator', [
    { name: '乐童玩具 汕头工厂 Shantou plant', kind: 'factory', region: 'CN-44', address: '广东省汕头市澄海区' },
  ]);
  const lab = await org('山东省农产品质量检测中心 Shandong Agri-Product QA Centre', 'inspection_agency', 'inspector');
  const bureau = await org('市场监督管理局 Market Supervision Bureau', 'regulator', 'regulator');

  const event = (o: Org, domain: string, id: string, body: Record<string, unknown>) =>
    o.api.post(`/v1/${domain}/batches/${id}/events`, { locationId: Object.values(o.locations)[0], ...body });
  const ship = async (from: Org, to: Org, domain: string, id: string, value: number, unit: string, hoursAgo: number, toLocationKind?: string) => {
    await event(from, domain, id, { bizStep: 'shipping', eventTime: cst(hoursAgo), toOrgId: to.id, quantity: { value, unit }, ...(toLocationKind ? { toLocationId: to.locations[toLocationKind] } : {}) });
    await event(to, domain, id, { bizStep: 'receiving', eventTime: cst(hoursAgo - 4) });
  };

  // ---------------------------------------------------------------- agri and food
  say('demo: farms, processor, retailer');
  await farm.api.post('/v1/agri/products', { gtin: gtin(1), name: '樱桃番茄 Cherry tomatoes', category: 'vegetable' });
  await coop.api.post('/v1/agri/products', { gtin: gtin(2), name: '优质小麦 Wheat', category: 'grain' });
  await foods.api.post('/v1/food/products', { gtin: gtin(3), name: '鲁味番茄酱 Tomato ketchup 500 g', category: 'sauce' });
  await foods.api.post('/v1/food/products', { gtin: gtin(4), name: '鲁味挂面 Dried noodles 1 kg', category: 'noodles' });

  const tomatoes = await farm.api.post('/v1/agri/batches', {
    gtin: gtin(1), lot: `TOM-${tag}`, quantity: { value: 1200, unit: 'kg' }, producedAt: cst(120), locationId: farm.locations.farm,
    documents: [{ type: 'harvest-record', id: `HR-${tag}-01` }],
  });
  const certificate = await farm.api.post(`/v1/agri/batches/${tomatoes.id}/certificate`, {
    commitments: ['no_banned_substances', 'withdrawal_periods_respected', 'residues_within_limits'],
    basis: 'self_test', contact: '13800138000', origin: '山东寿光 Shouguang, Shandong',
  });
  await lab.api.post(`/v1/agri/batches/${tomatoes.id}/inspections`, {
    reportNo: `SD-${tag}-T1`, sampledAt: cst(110), agency: lab.name,
    items: [{ name: 'chlorpyrifos', value: 0.005, unit: 'mg/kg', limit: 0.02, result: 'pass' }], conclusion: 'pass',
  });
  // Partial shipments: 500 kg to the processor, 400 kg to the supermarket, 300 kg stay at the farm.
  await ship(farm, foods, 'agri', tomatoes.id, 500, 'kg', 100);
  await ship(farm, market, 'agri', tomatoes.id, 400, 'kg', 98);

  const wheat = await coop.api.post('/v1/agri/batches', {
    gtin: gtin(2), lot: `WHT-${tag}`, quantity: { value: 10000, unit: 'kg' }, producedAt: cst(240), locationId: coop.locations.field,
  });
  await ship(coop, foods, 'agri', wheat.id, 6000, 'kg', 200);

  const ketchup = await foods.api.post('/v1/food/batches', {
    gtin: gtin(3), lot: `KET-${tag}`, quantity: { value: 2000, unit: 'bottle' }, producedAt: cst(90), locationId: foods.locations.factory,
    expiresAt: cst(-24 * 365), inputs: [{ domain: 'agri', batchId: tomatoes.id, quantity: { value: 500, unit: 'kg' } }],
  });
  const noodles = await foods.api.post('/v1/food/batches', {
    gtin: gtin(4), lot: `NDL-${tag}`, quantity: { value: 4000, unit: 'pack' }, producedAt: cst(150), locationId: foods.locations.factory,
    expiresAt: cst(-24 * 365), inputs: [{ domain: 'agri', batchId: wheat.id, quantity: { value: 4000, unit: 'kg' } }],
  });
  await ship(foods, market, 'food', ketchup.id, 1200, 'bottle', 80);
  await ship(foods, market, 'food', noodles.id, 3000, 'pack', 120);

  // ---------------------------------------------------------------- a failed sample, a case, a recall
  say('demo: a failed sample of the wheat, the case, the recall');
  const failed = await lab.api.post(`/v1/agri/batches/${wheat.id}/inspections`, {
    reportNo: `SD-${tag}-W1`, sampledAt: cst(30), agency: lab.name,
    items: [
      { name: 'deoxynivalenol (呕吐毒素)', value: 1.8, unit: 'mg/kg', limit: 1, result: 'fail' },
      { name: 'lead (铅)', value: 0.05, unit: 'mg/kg', limit: 0.2, result: 'pass' },
    ],
    conclusion: 'fail',
  });
  // The case is opened from the inspection event and lineage learns of the noodles from theirs: wait for both.
  const theCase = await until('the case of the failed sample', async () => {
    const r = await bureau.api.get('/v1/cases?status=open&limit=500');
    return r.status === 200 && r.body.items.find((c: { inspection: { id: string } }) => c.inspection.id === failed.id);
  });
  await until('lineage to follow the wheat into the noodles', async () => {
    const r = await bureau.api.get(`/v1/trace/agri/${wheat.id}?direction=downstream`);
    return r.status === 200 && r.body.nodes.some((n: { batchId: string }) => n.batchId === noodles.id);
  });
  const recall = await bureau.api.post(`/v1/cases/${theCase.id}/recall`, { level: 2, reason: '呕吐毒素超标 Deoxynivalenol 1.8 mg/kg (limit 1)' });
  await until('the noodles to read recalled', async () => (await market.api.get(`/v1/food/batches/${noodles.id}`)).body?.status === 'recalled');
  await market.api.post(`/v1/recalls/${recall.id}/acknowledgements`, { batchId: noodles.id, recovered: 2600, destroyed: 0, sold: 400 });

  // ---------------------------------------------------------------- drugs
  say('demo: drugs, pharmacy, hospital');
  await pharma.api.post('/v1/drug/products', { gtin: gtin(5), name: '阿莫西林胶囊 Amoxicillin capsules 0.25 g × 24', category: 'capsule' });
  await pharma.api.post('/v1/drug/products', { gtin: gtin(6), name: '流感病毒裂解疫苗 Influenza vaccine (split virion)', category: 'vaccine' });
  const capsules = await pharma.api.post('/v1/drug/batches', {
    gtin: gtin(5), lot: `AMX-${tag}`, quantity: { value: 5000, unit: 'box' }, producedAt: cst(400), expiresAt: cst(-24 * 700), locationId: pharma.locations.factory,
  });
  const codes = await pharma.api.post(`/v1/drug/batches/${capsules.id}/codes`, { count: 20 });
  await ship(pharma, pharmacy, 'drug', capsules.id, 500, 'box', 60);
  const verified = await anonymous.post('/v1/drug/verify', { code: codes.codes[0] }, 200);
  await pharmacy.api.post('/v1/drug/dispense', { code: codes.codes[0] });

  const vaccine = await pharma.api.post('/v1/drug/batches', {
    gtin: gtin(6), lot: `FLU-${tag}`, quantity: { value: 2000, unit: 'dose' }, producedAt: cst(300), expiresAt: cst(-24 * 300), locationId: pharma.locations.factory,
  });
  await bureau.api.post(`/v1/drug/batches/${vaccine.id}/release`, { number: `BR-${tag}-001`, note: '中检院批签发 NIFDC lot release' });
  await ship(pharma, hospital, 'drug', vaccine.id, 300, 'dose', 50);

  // ---------------------------------------------------------------- incidents
  say('demo: incidents');
  const reaction = await hospital.api.post('/v1/incidents', {
    domain: 'drug', gtin: gtin(6), lot: `FLU-${tag}`, severity: 'serious_injury', occurredAt: cst(20), awareAt: cst(18),
    description: '接种后出现严重过敏反应，已住院治疗 Severe allergic reaction after vaccination; patient admitted',
  });
  await pharma.api.post(`/v1/incidents/${reaction.id}/reports`, {
    summary: '过敏反应个案，批次检验合格 Single allergic case; retained samples of the lot tested within specification',
    actions: '通知接种点暂停使用该批次并观察 Vaccination sites told to pause the lot pending review',
  });

  // ---------------------------------------------------------------- building material
  say('demo: cement to a construction site');
  await cementWorks.api.post('/v1/material/products', { gtin: gtin(7), name: '普通硅酸盐水泥 Ordinary Portland cement', category: 'cement' });
  const cement = await cementWorks.api.post('/v1/material/batches', {
    gtin: gtin(7), lot: `CEM-${tag}`, quantity: { value: 200, unit: 't' }, producedAt: cst(72), locationId: cementWorks.locations.factory,
    attributes: { standard: 'GB 175-2023', grade: 'P·O 42.5' },
  });
  await ship(cementWorks, builder, 'material', cement.id, 80, 't', 40, 'construction_site');

  // ---------------------------------------------------------------- consumer goods
  say('demo: toys');
  await toys.api.post('/v1/goods/products', { gtin: gtin(8), name: '儿童电动小火车 Electric toy train', category: 'toy' });
  const train = await toys.api.post('/v1/goods/batches', {
    gtin: gtin(8), lot: `TOY-${tag}`, quantity: { value: 3000, unit: 'pcs' }, producedAt: cst(500), locationId: toys.locations.factory,
    attributes: { cccCertificate: '2024011606123456' },
  });
  await ship(toys, market, 'goods', train.id, 600, 'pcs', 300);
  const toyIncident = await market.api.post('/v1/incidents', {
    domain: 'goods', gtin: gtin(8), lot: `TOY-${tag}`, severity: 'minor_injury', occurredAt: cst(10), awareAt: cst(8),
    description: '顾客反映电池仓盖脱落，儿童手指划伤 Battery cover came off; a child cut a finger',
  });

  const summary = {
    baseUrl,
    run: tag,
    clients: orgs.map((o) => ({ organisation: o.name, orgId: o.id, kind: o.kind, role: o.role, clientId: o.clientId, clientSecret: o.clientSecret })),
    batches: {
      tomatoes: { domain: 'agri', id: tomatoes.id, gtin: gtin(1), lot: tomatoes.lot, scan: `${baseUrl}/01/${tomatoes.digitalLink?.split('/01/')[1] ?? `${gtin(1)}/10/${tomatoes.lot}`}` },
      wheat: { domain: 'agri', id: wheat.id, gtin: gtin(2), lot: wheat.lot },
      ketchup: { domain: 'food', id: ketchup.id, gtin: gtin(3), lot: ketchup.lot },
      noodles: { domain: 'food', id: noodles.id, gtin: gtin(4), lot: noodles.lot, scan: `${baseUrl}/01/${gtin(4).padStart(14, '0')}/10/${noodles.lot}` },
      capsules: { domain: 'drug', id: capsules.id, gtin: gtin(5), lot: capsules.lot, codes: codes.codes.slice(0, 3) },
      vaccine: { domain: 'drug', id: vaccine.id, gtin: gtin(6), lot: vaccine.lot },
      cement: { domain: 'material', id: cement.id, gtin: gtin(7), lot: cement.lot },
      toyTrain: { domain: 'goods', id: train.id, gtin: gtin(8), lot: train.lot },
    },
    certificate: { number: certificate.number, page: `${baseUrl}/v1/certificates/${certificate.number}` },
    failedSample: { inspectionId: failed.id, caseId: theCase.id },
    recall: { id: recall.id, level: recall.level, batches: recall.scope.batches.length },
    incidents: [
      { id: reaction.id, severity: 'serious_injury', status: 'reported' },
      { id: toyIncident.id, severity: 'minor_injury', status: toyIncident.status },
    ],
    drugCodeVerified: verified.status,
  };
  if (asJson) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const rows = summary.clients.map((c) => [c.organisation, c.kind, c.role, c.clientId, c.clientSecret]);
  const head = ['organisation', 'kind', 'role', 'clientId', 'clientSecret'];
  const width = (i: number) => Math.max(head[i].length, ...rows.map((r) => displayWidth(r[i])));
  const line = (r: string[]) => r.map((v, i) => v + ' '.repeat(width(i) - displayWidth(v))).join('  ').trimEnd();
  const out = [
    '',
    `Demo data in ${baseUrl} (run ${tag}). Clients created (the secrets are shown only here; a token: POST /v1/auth/token {"clientId","clientSecret"}):`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `Scan a certified lot:     ${summary.batches.tomatoes.scan}`,
    `Its certificate (print):  ${summary.certificate.page}`,
    `Scan a recalled lot:      ${summary.batches.noodles.scan}`,
    `Recall:                   ${baseUrl}/v1/recalls/${recall.id} (level ${recall.level}, ${summary.recall.batches} batches in scope)`,
    `Incidents:                ${reaction.id} (reported), ${toyIncident.id} (awaiting the report)`,
    `Drug code to verify:      POST ${baseUrl}/v1/drug/verify {"code":"${codes.codes[1]}"}`,
    '',
  ];
  process.stdout.write(out.join('\n'));
}

/** Terminal columns of a text: CJK characters take two. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

/** Polls until `check` gives something truthy (what travels over the event backbone takes a moment). */
async function until<T>(what: string, check: () => Promise<T | false | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
