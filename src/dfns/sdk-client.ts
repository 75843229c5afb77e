import {
  accessTokenSchema,
  createdPatSchema,
  createdServiceAccountSchema,
  createdServiceAccountToken,
  credentialSchema,
  describeIssues,
  keyCredentialChallengeSchema,
  listOf,
  messageSchema,
  parseAnswer,
  serviceAccountSchema,
  toAccessTokenRecord,
  toCredentialRecord,
  toServiceAccountRecord,
  userActionChallengeSchema,
  userActionSchema,
} from './answers.js';
import { buildKeyAttestation, newCredId } from './attestation.js';
import type { CallRunner, CallSpec, TokenSource } from './call-runner.js';
import { createLostError, findCreatedRecord } from './create-reconcile.js';
import { z } from 'zod';
import { DfnsClientError, DfnsInvalidAnswerError } from './errors.js';
import { assertKeyPair, assertPublicKeyPem } from './keys.js';
import type {
  CreatePersonalAccessTokenInput,
  CreateServiceAccountInput,
  Created,
  CredentialRecord,
  DfnsPort,
  NewKeyCredentialInput,
  PersonalAccessTokenRecord,
  ServiceAccountRecord,
} from './port.js';
import type { LoadedSdk } from './sdk-loader.js';

type ApiClient = InstanceType<LoadedSdk['sdk']['DfnsApiClient']>;
type Signer = InstanceType<LoadedSdk['keysigner']['AsymmetricKeySigner']>;

export interface SdkDfnsPortDeps {
  identity: string;
  baseUrl: string;
  orgId: string;
  runner: CallRunner;
  tokens: TokenSource;
  sdk: LoadedSdk;
  /** The Key credential user actions are signed with; absent for read-only token identities. */
  signer?: { credId: string; privateKeyPem: string };
}

/** The DfnsPort on top of `@dfns/sdk`. Everything HTTP-related lives in the runner and transport. */
export class SdkDfnsPort implements DfnsPort {
  readonly identity: string;
  readonly #deps: SdkDfnsPortDeps;
  readonly #signer: Signer | undefined;

  constructor(deps: SdkDfnsPortDeps) {
    this.#deps = deps;
    this.identity = deps.identity;
    this.#signer = deps.signer
      ? new deps.sdk.keysigner.AsymmetricKeySigner({ credId: deps.signer.credId, privateKey: deps.signer.privateKeyPem })
      : undefined;
  }

  async listServiceAccounts(): Promise<ServiceAccountRecord[]> {
    const op = 'listServiceAccounts';
    return this.#call(op, (c) => c.auth.listServiceAccounts(), (raw) => parseListAnswer(op, serviceAccountSchema, raw, toServiceAccountRecord));
  }

  async getServiceAccount(serviceAccountId: string): Promise<ServiceAccountRecord> {
    return this.#serviceAccountCall('getServiceAccount', serviceAccountId, (c) => c.auth.getServiceAccount({ serviceAccountId }));
  }

  async createServiceAccount(input: CreateServiceAccountInput): Promise<Created<ServiceAccountRecord>> {
    const op = 'createServiceAccount';
    this.#requireSigner(op);
    checkPublicKey(op, input.publicKeyPem);
    const body = {
      name: input.name,
      publicKey: input.publicKeyPem,
      ...(input.daysValid !== undefined ? { daysValid: input.daysValid } : {}),
      ...(input.permissionId !== undefined ? { permissionId: input.permissionId } : {}),
      ...(input.externalId !== undefined ? { externalId: input.externalId } : {}),
    };
    return this.#deps.runner.run(
      {
        operation: op,
        invoke: (token) => this.#client(token).auth.createServiceAccount({ body }),
        parse: (raw) => {
          const sa = parseAnswer(op, createdServiceAccountSchema, raw);
          return { record: toServiceAccountRecord(sa), accessToken: createdServiceAccountToken(sa) };
        },
        reconcile: async (cause) => {
          const found = findCreatedRecord(await this.listServiceAccounts(), (sa) => ({
            name: sa.name,
            ...(sa.externalId !== undefined ? { externalId: sa.externalId } : {}),
            publicKeys: sa.accessTokens.map((t) => t.publicKey),
          }), input);
          if (found) throw createLostError(op, 'serviceAccount', found.id, cause.code);
          return undefined;
        },
      },
      this.#deps.tokens,
    );
  }

  async activateServiceAccount(serviceAccountId: string): Promise<ServiceAccountRecord> {
    this.#requireSigner('activateServiceAccount');
    return this.#serviceAccountCall('activateServiceAccount', serviceAccountId, (c) => c.auth.activateServiceAccount({ serviceAccountId }));
  }

  async deactivateServiceAccount(serviceAccountId: string): Promise<ServiceAccountRecord> {
    this.#requireSigner('deactivateServiceAccount');
    // `force` stays unset: bypassing the policy approver check is never the worker's call.
    return this.#serviceAccountCall('deactivateServiceAccount', serviceAccountId, (c) => c.auth.deactivateServiceAccount({ serviceAccountId, body: {} }));
  }

  async archiveServiceAccount(serviceAccountId: string): Promise<ServiceAccountRecord> {
    this.#requireSigner('archiveServiceAccount');
    return this.#serviceAccountCall('archiveServiceAccount', serviceAccountId, (c) => c.auth.archiveServiceAccount({ serviceAccountId }));
  }

  async listPersonalAccessTokens(): Promise<PersonalAccessTokenRecord[]> {
    const op = 'listPersonalAccessTokens';
    return this.#call(op, (c) => c.auth.listPersonalAccessTokens(), (raw) => parseListAnswer(op, accessTokenSchema, raw, toAccessTokenRecord));
  }

  async getPersonalAccessToken(tokenId: string): Promise<PersonalAccessTokenRecord> {
    return this.#patCall('getPersonalAccessToken', tokenId, (c) => c.auth.getPersonalAccessToken({ tokenId }));
  }

  async createPersonalAccessToken(input: CreatePersonalAccessTokenInput): Promise<Created<PersonalAccessTokenRecord>> {
    const op = 'createPersonalAccessToken';
    this.#requireSigner(op);
    checkPublicKey(op, input.publicKeyPem);
    const body = {
      name: input.name,
      publicKey: input.publicKeyPem,
      ...(input.daysValid !== undefined ? { daysValid: input.daysValid } : {}),
      ...(input.secondsValid !== undefined ? { secondsValid: input.secondsValid } : {}),
      ...(input.permissionId !== undefined ? { permissionId: input.permissionId } : {}),
      ...(input.externalId !== undefined ? { externalId: input.externalId } : {}),
    };
    return this.#deps.runner.run(
      {
        operation: op,
        invoke: (token) => this.#client(token).auth.createPersonalAccessToken({ body }),
        parse: (raw) => {
          const pat = parseAnswer(op, createdPatSchema, raw);
          return { record: toAccessTokenRecord(pat), accessToken: pat.accessToken };
        },
        reconcile: async (cause) => {
          const found = findCreatedRecord(await this.listPersonalAccessTokens(), (pat) => ({
            name: pat.name,
            ...(pat.externalId !== undefined ? { externalId: pat.externalId } : {}),
            publicKeys: [pat.publicKey],
          }), input);
          if (found) throw createLostError(op, 'personalAccessToken', found.tokenId, cause.code);
          return undefined;
        },
      },
      this.#deps.tokens,
    );
  }

  async activatePersonalAccessToken(tokenId: string): Promise<PersonalAccessTokenRecord> {
    this.#requireSigner('activatePersonalAccessToken');
    return this.#patCall('activatePersonalAccessToken', tokenId, (c) => c.auth.activatePersonalAccessToken({ tokenId }));
  }

  async deactivatePersonalAccessToken(tokenId: string): Promise<PersonalAccessTokenRecord> {
    this.#requireSigner('deactivatePersonalAccessToken');
    return this.#patCall('deactivatePersonalAccessToken', tokenId, (c) => c.auth.deactivatePersonalAccessToken({ tokenId }));
  }

  async archivePersonalAccessToken(tokenId: string): Promise<PersonalAccessTokenRecord> {
    this.#requireSigner('archivePersonalAccessToken');
    return this.#patCall('archivePersonalAccessToken', tokenId, (c) => c.auth.archivePersonalAccessToken({ tokenId }));
  }

  async createKeyCredential(input: NewKeyCredentialInput): Promise<CredentialRecord> {
    const op = 'createKeyCredential';
    this.#requireSigner(op);
    checkPublicKey(op, input.publicKeyPem);
    assertKeyPair(input.privateKeyPem, input.publicKeyPem, 'new key credential');
    const credId = input.credId ?? newCredId();
    return this.#deps.runner.run(
      {
        operation: op,
        invoke: async (token) => {
          const client = this.#client(token);
          const challenge = parseAnswer(op, keyCredentialChallengeSchema, await client.auth.createCredentialChallenge({ body: { kind: 'Key' } }));
          const credentialInfo = buildKeyAttestation({ challenge: challenge.challenge, credId, privateKeyPem: input.privateKeyPem, publicKeyPem: input.publicKeyPem });
          return client.auth.createCredential({
            body: { credentialKind: 'Key', credentialInfo, credentialName: input.name, challengeIdentifier: challenge.challengeIdentifier },
          });
        },
        parse: (raw) => toCredentialRecord(parseAnswer(op, credentialSchema, raw)),
        // We chose the credId and hold the private key: a credential found by it is simply ours.
        reconcile: async () => (await this.listCredentials()).find((c) => c.credentialId === credId),
      },
      this.#deps.tokens,
    );
  }

  async listCredentials(): Promise<CredentialRecord[]> {
    const op = 'listCredentials';
    return this.#call(op, (c) => c.auth.listCredentials(), (raw) => parseAnswer(op, listOf(credentialSchema), raw).items.map(toCredentialRecord));
  }

  async activateCredential(credentialUuid: string): Promise<void> {
    const op = 'activateCredential';
    this.#requireSigner(op);
    await this.#call(op, (c) => c.auth.activateCredential({ body: { credentialUuid } }), (raw) => void parseAnswer(op, messageSchema, raw));
  }

  async deactivateCredential(credentialUuid: string): Promise<void> {
    const op = 'deactivateCredential';
    this.#requireSigner(op);
    await this.#call(op, (c) => c.auth.deactivateCredential({ body: { credentialUuid } }), (raw) => void parseAnswer(op, messageSchema, raw));
  }

  async proveSigning(): Promise<void> {
    const op = 'proveSigning';
    const signer = this.#requireSigner(op);
    await this.#call(
      op,
      async (client) => {
        // A challenge for a harmless read; the signed action token is checked, then dropped unused.
        const challenge = parseAnswer(op, userActionChallengeSchema, await client.auth.createUserActionChallenge({
          body: { userActionHttpMethod: 'GET', userActionHttpPath: '/auth/pats', userActionPayload: '', userActionServerKind: 'Api' },
        }));
        const firstFactor = await signer.sign(challenge as Parameters<Signer['sign']>[0]);
        const signed = await client.auth.createUserActionSignature({ body: { challengeIdentifier: challenge.challengeIdentifier, firstFactor } });
        parseAnswer(op, userActionSchema, signed);
      },
      () => undefined,
    );
  }

  #client(token: string | undefined): ApiClient {
    return new this.#deps.sdk.sdk.DfnsApiClient({
      baseUrl: this.#deps.baseUrl,
      orgId: this.#deps.orgId,
      ...(token !== undefined ? { authToken: token } : {}),
      ...(this.#signer ? { signer: this.#signer } : {}),
    });
  }

  #call<R, T>(operation: string, invoke: (client: ApiClient) => Promise<R>, parse: (raw: R) => T): Promise<T> {
    const spec: CallSpec<R, T> = { operation, invoke: (token) => invoke(this.#client(token)), parse };
    return this.#deps.runner.run(spec, this.#deps.tokens);
  }

  #serviceAccountCall(op: string, id: string, invoke: (client: ApiClient) => Promise<unknown>): Promise<ServiceAccountRecord> {
    checkId(op, 'serviceAccountId', id);
    return this.#call(op, invoke, (raw) => toServiceAccountRecord(parseAnswer(op, serviceAccountSchema, raw)));
  }

  #patCall(op: string, id: string, invoke: (client: ApiClient) => Promise<unknown>): Promise<PersonalAccessTokenRecord> {
    checkId(op, 'tokenId', id);
    return this.#call(op, invoke, (raw) => toAccessTokenRecord(parseAnswer(op, accessTokenSchema, raw)));
  }

  /** Mutations need a Key credential; fail before any request rather than after a spent challenge. */
  #requireSigner(operation: string): Signer {
    if (!this.#signer) {
      throw new DfnsClientError(`${this.identity} has no signing key configured; this operation needs user-action signing`, { operation });
    }
    return this.#signer;
  }
}

/**
 * A list answer, validated and mapped item by item: the validated copy of each item is garbage at
 * once, instead of a validated copy of the whole list living beside the raw answer and the records
 * (at 50,000 service accounts, ~60 MB less at the peak). Errors name the item (`items[3].isActive`).
 */
function parseListAnswer<S extends z.ZodType, T>(operation: string, item: S, raw: unknown, map: (parsed: z.output<S>) => T): T[] {
  const list = parseAnswer(operation, listOf(z.unknown()), raw);
  const out: T[] = new Array(list.items.length);
  for (let i = 0; i < list.items.length; i++) {
    const parsed = item.safeParse(list.items[i]);
    if (!parsed.success) {
      throw new DfnsInvalidAnswerError(`answer does not match the documented shape: ${describeIssues(parsed.error.issues.map((x) => ({ ...x, path: ['items', i, ...x.path] })))}`, { operation });
    }
    out[i] = map(parsed.data);
  }
  return out;
}

function checkId(operation: string, field: string, id: string): void {
  if (typeof id !== 'string' || id.trim() === '') throw new DfnsClientError(`${field} must be a non-empty string`, { operation });
}

function checkPublicKey(operation: string, pem: string): void {
  try {
    assertPublicKeyPem(pem, 'publicKeyPem');
  } catch (err) {
    throw new DfnsClientError((err as Error).message, { operation });
  }
}

