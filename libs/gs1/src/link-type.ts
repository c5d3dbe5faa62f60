/**
 * GS1 Digital Link link types (the GS1 Web Vocabulary, https://gs1.org/voc/).
 * A resolver takes them as CURIEs (`gs1:pip`) or full URIs; linksets name
 * relations by full URI (RFC 9264), so both spellings map to one key.
 */
export const GS1_VOCAB = 'https://gs1.org/voc/';

/** The link types this system answers, with what each one points at. */
export const GS1_LINK_TYPES = {
  pip: 'Product information page',
  recallStatus: 'Recall status',
  certificationInfo: 'Certification information',
  traceability: 'Traceability information',
  defaultLink: 'Default link',
} as const;

export type Gs1LinkType = keyof typeof GS1_LINK_TYPES;

/**
 * Short name of a GS1 link type given as `gs1:x` or `https://gs1.org/voc/x`
 * (http accepted), or undefined for anything else, including GS1 types this
 * system does not serve.
 */
export function gs1LinkType(value: string): Gs1LinkType | undefined {
  const m = /^(?:gs1:|https?:\/\/gs1\.org\/voc\/)([A-Za-z]+)$/.exec(value);
  if (!m) return undefined;
  return Object.prototype.hasOwnProperty.call(GS1_LINK_TYPES, m[1]) ? (m[1] as Gs1LinkType) : undefined;
}

/** The relation URI of a link type, as a linkset names it. */
export const gs1LinkTypeUri = (type: Gs1LinkType): string => `${GS1_VOCAB}${type}`;
