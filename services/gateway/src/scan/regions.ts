import type { Lang } from './i18n';

type Names = readonly [zh: string, en: string];

/**
 * China's province-level divisions by their GB/T 2260 code (the first two
 * digits of every administrative code) and by the ISO 3166-2:CN letters
 * that replaced the numbers in 2017: a location's `region` may be written
 * either way (`CN-37`, `CN-SD`), or as a full six-digit code (`370102`).
 */
const PROVINCES: Record<string, { iso: string; names: Names }> = {
  '11': { iso: 'BJ', names: ['北京市', 'Beijing'] },
  '12': { iso: 'TJ', names: ['天津市', 'Tianjin'] },
  '13': { iso: 'HE', names: ['河北省', 'Hebei'] },
  '14': { iso: 'SX', names: ['山西省', 'Shanxi'] },
  '15': { iso: 'NM', names: ['内蒙古自治区', 'Inner Mongolia'] },
  '21': { iso: 'LN', names: ['辽宁省', 'Liaoning'] },
  '22': { iso: 'JL', names: ['吉林省', 'Jilin'] },
  '23': { iso: 'HL', names: ['黑龙江省', 'Heilongjiang'] },
  '31': { iso: 'SH', names: ['上海市', 'Shanghai'] },
  '32': { iso: 'JS', names: ['江苏省', 'Jiangsu'] },
  '33': { iso: 'ZJ', names: ['浙江省', 'Zhejiang'] },
  '34': { iso: 'AH', names: ['安徽省', 'Anhui'] },
  '35': { iso: 'FJ', names: ['福建省', 'Fujian'] },
  '36': { iso: 'JX', names: ['江西省', 'Jiangxi'] },
  '37': { iso: 'SD', names: ['山东省', 'Shandong'] },
  '41': { iso: 'HA', names: ['河南省', 'Henan'] },
  '42': { iso: 'HB', names: ['湖北省', 'Hubei'] },
  '43': { iso: 'HN', names: ['湖南省', 'Hunan'] },
  '44': { iso: 'GD', names: ['广东省', 'Guangdong'] },
  '45': { iso: 'GX', names: ['广西壮族自治区', 'Guangxi'] },
  '46': { iso: 'HI', names: ['海南省', 'Hainan'] },
  '50': { iso: 'CQ', names: ['重庆市', 'Chongqing'] },
  '51': { iso: 'SC', names: ['四川省', 'Sichuan'] },
  '52': { iso: 'GZ', names: ['贵州省', 'Guizhou'] },
  '53': { iso: 'YN', names: ['云南省', 'Yunnan'] },
  '54': { iso: 'XZ', names: ['西藏自治区', 'Xizang'] },
  '61': { iso: 'SN', names: ['陕西省', 'Shaanxi'] },
  '62': { iso: 'GS', names: ['甘肃省', 'Gansu'] },
  '63': { iso: 'QH', names: ['青海省', 'Qinghai'] },
  '64': { iso: 'NX', names: ['宁夏回族自治区', 'Ningxia'] },
  '65': { iso: 'XJ', names: ['新疆维吾尔自治区', 'Xinjiang'] },
  '71': { iso: 'TW', names: ['台湾省', 'Taiwan'] },
  '81': { iso: 'HK', names: ['香港特别行政区', 'Hong Kong'] },
  '82': { iso: 'MO', names: ['澳门特别行政区', 'Macao'] },
};

const PROVINCE_BY_ISO = new Map(Object.values(PROVINCES).map((p) => [p.iso, p.names]));

/** ISO 3166-1 alpha-2 names of the countries products commonly come from. */
const COUNTRIES: Record<string, Names> = {
  CN: ['中国', 'China'],
  HK: ['中国香港', 'Hong Kong, China'],
  MO: ['中国澳门', 'Macao, China'],
  TW: ['中国台湾', 'Taiwan, China'],
  US: ['美国', 'United States'],
  CA: ['加拿大', 'Canada'],
  MX: ['墨西哥', 'Mexico'],
  BR: ['巴西', 'Brazil'],
  AR: ['阿根廷', 'Argentina'],
  CL: ['智利', 'Chile'],
  PE: ['秘鲁', 'Peru'],
  EC: ['厄瓜多尔', 'Ecuador'],
  UY: ['乌拉圭', 'Uruguay'],
  GB: ['英国', 'United Kingdom'],
  IE: ['爱尔兰', 'Ireland'],
  FR: ['法国', 'France'],
  DE: ['德国', 'Germany'],
  NL: ['荷兰', 'Netherlands'],
  BE: ['比利时', 'Belgium'],
  CH: ['瑞士', 'Switzerland'],
  AT: ['奥地利', 'Austria'],
  IT: ['意大利', 'Italy'],
  ES: ['西班牙', 'Spain'],
  PT: ['葡萄牙', 'Portugal'],
  GR: ['希腊', 'Greece'],
  DK: ['丹麦', 'Denmark'],
  SE: ['瑞典', 'Sweden'],
  NO: ['挪威', 'Norway'],
  FI: ['芬兰', 'Finland'],
  PL: ['波兰', 'Poland'],
  CZ: ['捷克', 'Czechia'],
  HU: ['匈牙利', 'Hungary'],
  UA: ['乌克兰', 'Ukraine'],
  RU: ['俄罗斯', 'Russia'],
  TR: ['土耳其', 'Türkiye'],
  IL: ['以色列', 'Israel'],
  SA: ['沙特阿拉伯', 'Saudi Arabia'],
  AE: ['阿联酋', 'United Arab Emirates'],
  EG: ['埃及', 'Egypt'],
  ZA: ['南非', 'South Africa'],
  KE: ['肯尼亚', 'Kenya'],
  ET: ['埃塞俄比亚', 'Ethiopia'],
  IN: ['印度', 'India'],
  PK: ['巴基斯坦', 'Pakistan'],
  BD: ['孟加拉国', 'Bangladesh'],
  LK: ['斯里兰卡', 'Sri Lanka'],
  KZ: ['哈萨克斯坦', 'Kazakhstan'],
  MN: ['蒙古', 'Mongolia'],
  JP: ['日本', 'Japan'],
  KR: ['韩国', 'South Korea'],
  VN: ['越南', 'Viet Nam'],
  TH: ['泰国', 'Thailand'],
  LA: ['老挝', 'Laos'],
  KH: ['柬埔寨', 'Cambodia'],
  MM: ['缅甸', 'Myanmar'],
  MY: ['马来西亚', 'Malaysia'],
  SG: ['新加坡', 'Singapore'],
  ID: ['印度尼西亚', 'Indonesia'],
  PH: ['菲律宾', 'Philippines'],
  AU: ['澳大利亚', 'Australia'],
  NZ: ['新西兰', 'New Zealand'],
};

const pick = (names: Names, lang: Lang) => (lang === 'zh' ? names[0] : names[1]);

/**
 * A location's `region` in words for a reader: `CN-37`, `CN-SD`, `370102` →
 * 山东省 / Shandong; `US` → 美国 / United States; `US-CA` → 美国 CA. A value
 * that is none of these (a free text such as 寿光市) is shown as written.
 */
export function regionName(region: string, lang: Lang): string {
  const code = region.trim().toUpperCase();
  const china = /^(?:CN-?)?(\d{2})(?:\d{4})?$/.exec(code);
  if (china && PROVINCES[china[1]]) return pick(PROVINCES[china[1]].names, lang);
  const letters = /^CN-([A-Z]{2})$/.exec(code);
  if (letters && PROVINCE_BY_ISO.has(letters[1])) return pick(PROVINCE_BY_ISO.get(letters[1]) as Names, lang);
  if (COUNTRIES[code]) return pick(COUNTRIES[code], lang);
  const subdivision = /^([A-Z]{2})-([A-Z0-9]{1,3})$/.exec(code);
  // China's subdivisions are in the table above: an unassigned one stays as written.
  if (subdivision && subdivision[1] !== 'CN' && COUNTRIES[subdivision[1]]) return `${pick(COUNTRIES[subdivision[1]], lang)} ${subdivision[2]}`;
  return region;
}
