/**
 * Machine-readable reasons for a refusal. The prefix names the rule family
 * (gtin, ai, date, dl = Digital Link, es = element string, drug) so that a
 * caller can map a family to a field without parsing the message.
 */
export type Gs1ErrorCode =
  | 'key.format'
  | 'gtin.format'
  | 'gtin.length'
  | 'gtin.check_digit'
  | 'ai.unknown'
  | 'ai.length'
  | 'ai.charset'
  | 'ai.check_digit'
  | 'date.ai'
  | 'date.format'
  | 'date.invalid'
  | 'dl.uri'
  | 'dl.base'
  | 'dl.primary_key'
  | 'dl.empty_segment'
  | 'dl.missing_value'
  | 'dl.not_qualifier'
  | 'dl.qualifier_order'
  | 'dl.duplicate'
  | 'dl.percent_encoding'
  | 'dl.query'
  | 'dl.misplaced_ai'
  | 'es.empty'
  | 'es.format'
  | 'es.symbology'
  | 'es.duplicate'
  | 'drug.format'
  | 'drug.length'
  | 'drug.product_code'
  | 'drug.serial'
  | 'drug.check_digit'
  | 'drug.check_impl';

export class Gs1Error extends Error {
  constructor(
    public readonly code: Gs1ErrorCode,
    message: string,
    /** The Application Identifier the problem was found in, when there is one. */
    public readonly ai?: string,
  ) {
    super(message);
    this.name = 'Gs1Error';
  }
}
