export { DOMAINS, DOMAIN_ENUM, type DomainName } from '@trace/contracts';
