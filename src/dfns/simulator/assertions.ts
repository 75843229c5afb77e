import { z } from 'zod';
import { decodeBase64Url } from './ids.js';
import { badRequest, unauthorized } from './dfns-errors.js';
import { checkAlgorithm, verifySignature } from './signatures.js';
import type { CredentialRecord } from './state.js';

/**
 * Verifies a `firstFactor` Key assertion (login and user-action signing), dfns-api.md §2:
 * clientData is base64url of UTF-8 JSON carrying `type: "key.get"` and the issued challenge;
 * the signature (base64url) covers the raw clientData bytes. Extra clientData fields (`origin`,
 * `crossOrigin`, as in Dfns' doc examples) are allowed.
 * Malformed input -> 400; wrong credential, challenge or signature -> 401 (an authentication
 * failure, as Dfns answers for credentials it can't use).
 */
const keyAssertion = z.object({
  kind: z.string(),
  credentialAssertion: z.object({
    credId: z.string().min(1),
    clientData: z.string().min(1),
    signature: z.string().min(1),
    algorithm: z.string().optional(),
  }).optional(),
});

export function verifyKeyAssertion(
  firstFactor: unknown,
  expectedChallenge: string,
  allowed: readonly CredentialRecord[],
): CredentialRecord {
  const parsed = keyAssertion.safeParse(firstFactor);
  if (!parsed.success) throw badRequest('firstFactor must be { kind, credentialAssertion: { credId, clientData, signature, algorithm? } }');
  if (parsed.data.kind !== 'Key') throw badRequest(`firstFactor.kind ${parsed.data.kind} is not supported by the simulator (Key only)`);
  const assertion = parsed.data.credentialAssertion;
  if (!assertion) throw badRequest('firstFactor.credentialAssertion is required');
  const algorithmProblem = checkAlgorithm(assertion.algorithm);
  if (algorithmProblem) throw badRequest(`firstFactor.credentialAssertion.${algorithmProblem}`);

  const credential = allowed.find((c) => c.credId === assertion.credId);
  if (!credential) throw unauthorized('Credential not found or not active for this caller', { credId: assertion.credId });

  const clientDataBytes = decodeBase64Url(assertion.clientData);
  if (!clientDataBytes) throw badRequest('firstFactor.credentialAssertion.clientData must be base64url');
  let clientData: { type?: unknown; challenge?: unknown };
  try {
    clientData = JSON.parse(clientDataBytes.toString('utf8')) as typeof clientData;
  } catch {
    throw badRequest('firstFactor.credentialAssertion.clientData must be base64url-encoded JSON');
  }
  if (clientData?.type !== 'key.get') throw badRequest('clientData.type must be "key.get"');
  if (clientData.challenge !== expectedChallenge) throw unauthorized('clientData.challenge does not match the issued challenge');

  const signature = decodeBase64Url(assertion.signature);
  if (!signature) throw badRequest('firstFactor.credentialAssertion.signature must be base64url');
  if (!verifySignature(credential.key, clientDataBytes, signature, assertion.algorithm)) {
    throw unauthorized('signature verification failed', { credId: credential.credId });
  }
  return credential;
}
