/**
 * Writes GS1's EPCIS 2.0 JSON Schema compiled ahead (libs/epcis/src/schema/epcis-validators.generated.ts).
 * Run after changing the schema or the Ajv version: `npm run epcis:gen`. A unit test fails while it is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { epcisValidatorSource, GENERATED_VALIDATORS } from '../../libs/epcis/src/schema/validator-source';

const file = join(__dirname, '../../libs/epcis/src/schema', GENERATED_VALIDATORS);
writeFileSync(file, epcisValidatorSource());
console.log(`wrote ${file}`);
