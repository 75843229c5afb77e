/**
 * Writes docs/credential.schema.json from the one definition in src/secrets/credential-json.ts
 * (`npx tsx scripts/credential-schema.ts`); test/unit/credential-json.test.ts fails when they drift.
 */
import { writeFileSync } from 'node:fs';
import { credentialJsonSchemaDocument } from '../src/secrets/credential-schema-doc.js';

writeFileSync(new URL('../docs/credential.schema.json', import.meta.url), `${JSON.stringify(credentialJsonSchemaDocument(), null, 2)}\n`);
