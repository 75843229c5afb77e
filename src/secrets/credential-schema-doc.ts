import { z } from 'zod';
import { CREDENTIAL_FORMAT, credentialJsonSchema } from './credential-json.js';

/** The JSON Schema (2020-12) of the consumer's credential JSON, as published in `docs/credential.schema.json`. */
export function credentialJsonSchemaDocument(): Record<string, unknown> {
  const generated = z.toJSONSchema(credentialJsonSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://github.com/dfns-rotator/dfns-rotator/docs/credential.schema.json`,
    title: 'A Dfns credential kept by dfns-rotator',
    description: `The value consuming services read from the secret store (${CREDENTIAL_FORMAT}). See docs/credential.md.`,
    ...Object.fromEntries(Object.entries(generated).filter(([k]) => k !== '$schema')),
  };
}
