import { Domain } from './gen/trace/v1/common_pb';

/** The five product domains by the names used in paths and schemas. */
export const DOMAINS = ['agri', 'food', 'drug', 'material', 'goods'] as const;
export type DomainName = (typeof DOMAINS)[number];

/** Name → proto enum, for building events. */
export const DOMAIN_ENUM: Readonly<Record<DomainName, Domain>> = {
  agri: Domain.AGRI,
  food: Domain.FOOD,
  drug: Domain.DRUG,
  material: Domain.MATERIAL,
  goods: Domain.GOODS,
};

/** Proto enum → name, for reading events; undefined for UNSPECIFIED or an unknown value. */
export function domainNameOf(d: Domain): DomainName | undefined {
  return DOMAINS.find((n) => DOMAIN_ENUM[n] === d);
}
