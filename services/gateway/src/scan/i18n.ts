/** The scan page's words in the two languages it speaks. */
export const LANGUAGES = ['zh', 'en'] as const;
export type Lang = (typeof LANGUAGES)[number];

export const HTML_LANG: Record<Lang, string> = { zh: 'zh-CN', en: 'en' };

const en = {
  site: 'Product trace',
  titleSuffix: 'product trace',
  recallTitle: 'RECALLED — do not use this product',
  recallLevel: (n: number) => `Recall level ${n} (${n === 1 ? 'most serious' : n === 2 ? 'serious' : 'less serious'})`,
  recallAdvice: 'Stop using it. Return it to the shop where you bought it or follow the seller’s instructions.',
  reason: 'Reason: ',
  heldTitle: 'On hold',
  heldText: 'This batch is held pending an inspection. It should not be on sale.',
  lot: 'Lot',
  serial: 'Serial',
  gtin: 'GTIN',
  status: 'Status',
  statuses: { active: 'In circulation', held: 'On hold', recalled: 'Recalled', destroyed: 'Destroyed', dispensed: 'Dispensed' } as Record<string, string>,
  producedAt: 'Produced',
  expiresAt: 'Use by',
  chain: 'Record integrity',
  chainValid: (n: number) => `Intact: all ${n} records verified, none altered`,
  chainBroken: 'Broken: the records of this batch do not verify. Ask the seller.',
  origin: 'Producer and origin',
  producer: 'Producer',
  place: 'Place',
  unknown: 'not published',
  journey: 'Journey',
  journeyIntro: 'Each step recorded for this batch, oldest first.',
  certificates: 'Certificates',
  noCertificates: 'No certificates recorded.',
  certificateKinds: {
    agri_compliance: 'Commitment-to-compliance certificate',
    drug_batch_release: 'Batch release (lot release) certificate',
  } as Record<string, string>,
  issued: 'issued',
  verify: 'verify',
  inspections: 'Inspections',
  noInspections: 'No supervision samples recorded.',
  pass: 'Pass',
  fail: 'Fail',
  retest: 're-test',
  sampled: 'sampled',
  madeFrom: 'Made from',
  product: 'Product',
  otherLanguage: '中文',
  dataLinks: 'Data',
  steps: {
    commissioning: 'Produced',
    shipping: 'Shipped',
    receiving: 'Received',
    transforming: 'Used in processing',
    holding: 'Held',
    inspecting: 'Inspected',
    sampling: 'Sampled',
    packing: 'Packed',
    storing: 'Stored',
    retail_selling: 'Sold',
    dispensing: 'Dispensed',
    destroying: 'Destroyed',
    installing: 'Installed',
    arriving: 'Arrived',
    departing: 'Departed',
    loading: 'Loaded',
    unloading: 'Unloaded',
    transporting: 'Transported',
  } as Record<string, string>,
  recalledStep: 'Recalled',
  placeKinds: {
    farm: 'farm', field: 'field', factory: 'factory', warehouse: 'warehouse', store: 'shop',
    pharmacy: 'pharmacy', hospital: 'hospital', construction_site: 'construction site',
  } as Record<string, string>,
  domains: { agri: 'Farm produce', food: 'Food', drug: 'Medicine', material: 'Building material', goods: 'Consumer goods' } as Record<string, string>,
};

type Messages = typeof en;

const zh: Messages = {
  site: '产品追溯',
  titleSuffix: '产品追溯',
  recallTitle: '已召回 —— 请勿使用本产品',
  recallLevel: (n: number) => `${n === 1 ? '一' : n === 2 ? '二' : '三'}级召回（${n === 1 ? '最严重' : n === 2 ? '较严重' : '一般'}）`,
  recallAdvice: '请立即停止使用，退回购买商店或按销售者的说明处理。',
  reason: '原因：',
  heldTitle: '暂扣中',
  heldText: '本批次因检验暂扣，不应在售。',
  lot: '批号',
  serial: '序列号',
  gtin: '商品条码',
  status: '状态',
  statuses: { active: '流通中', held: '暂扣', recalled: '已召回', destroyed: '已销毁', dispensed: '已调剂' },
  producedAt: '生产日期',
  expiresAt: '有效期至',
  chain: '记录完整性',
  chainValid: (n: number) => `完整：全部 ${n} 条记录已核验，未被篡改`,
  chainBroken: '异常：本批次记录未通过核验，请咨询销售者。',
  origin: '生产者与产地',
  producer: '生产者',
  place: '地点',
  unknown: '未公开',
  journey: '流通环节',
  journeyIntro: '本批次的每一条记录，按时间先后排列。',
  certificates: '证书',
  noCertificates: '暂无证书记录。',
  certificateKinds: { agri_compliance: '承诺达标合格证', drug_batch_release: '生物制品批签发证明' },
  issued: '签发',
  verify: '核验',
  inspections: '监督抽检',
  noInspections: '暂无监督抽检记录。',
  pass: '合格',
  fail: '不合格',
  retest: '复检',
  sampled: '抽样',
  madeFrom: '原料来源',
  product: '产品',
  otherLanguage: 'English',
  dataLinks: '数据',
  steps: {
    commissioning: '生产',
    shipping: '发货',
    receiving: '收货',
    transforming: '投入加工',
    holding: '暂扣',
    inspecting: '检验',
    sampling: '抽样',
    packing: '包装',
    storing: '仓储',
    retail_selling: '零售',
    dispensing: '调剂',
    destroying: '销毁',
    installing: '安装',
    arriving: '到达',
    departing: '离开',
    loading: '装车',
    unloading: '卸货',
    transporting: '运输',
  },
  recalledStep: '召回',
  placeKinds: {
    farm: '农场', field: '田块', factory: '工厂', warehouse: '仓库', store: '门店',
    pharmacy: '药店', hospital: '医院', construction_site: '工地',
  },
  domains: { agri: '食用农产品', food: '食品', drug: '药品', material: '建筑材料', goods: '消费品' },
};

export const MESSAGES: Record<Lang, Messages> = { en, zh };

const DATE_FORMATS: Record<Lang, Intl.DateTimeFormat> = {
  zh: new Intl.DateTimeFormat('zh-CN', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Asia/Shanghai' }),
  en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Shanghai' }),
};
const DAY_FORMATS: Record<Lang, Intl.DateTimeFormat> = {
  zh: new Intl.DateTimeFormat('zh-CN', { dateStyle: 'long', timeZone: 'Asia/Shanghai' }),
  en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'Asia/Shanghai' }),
};

/** Times as a reader in China expects them (the system's market); the machine-readable value stays in `datetime`. */
export const formatDateTime = (iso: string, lang: Lang) => DATE_FORMATS[lang].format(new Date(iso));
export const formatDay = (iso: string, lang: Lang) => DAY_FORMATS[lang].format(new Date(iso));

/** A CBV name for a reader: the translation, else the words of the identifier. */
export const words = (table: Record<string, string>, key: string) =>
  Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key.replace(/_/g, ' ');
