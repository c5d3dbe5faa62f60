import { Domain } from '@trace/contracts';

export const DOMAINS = ['agri', 'food', 'drug', 'material', 'goods'] as const;
export type DomainName = (typeof DOMAINS)[number];

export const DOMAIN_ENUM: Record<DomainName, Domain> = {
  agri: Domain.AGRI,
  food: Domain.FOOD,
  drug: Domain.DRUG,
  material: Domain.MATERIAL,
  goods: Domain.GOODS,
};
