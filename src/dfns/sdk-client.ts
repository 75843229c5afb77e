import {
  accessTokenSchema,
  createdPatSchema,
  createdServiceAccountSchema,
  createdServiceAccountToken,
  credentialSchema,
  keyCredentialChallengeSchema,
  listOf,
  messageSchema,
  parseAnswer,
  parseListAnswer,
  rawServiceAccountId,
  rawTokenId,
  serviceAccountSchema,
  toAccessTokenRecord,
  toCredentialRecord,
  toServiceAccountRecord,
  userActionChallengeSchema,
  userActionSchema,
} from './answers.js';
import { buildKeyAttestation, newCredId } from './attestation.js';
import type { CallRunner, CallSpec, TokenSource } from './call-runner.js';
import { createLostError, lookUpCreate, patCandidate, serviceAccountCandidate, type CreateIdentity } from './create-reconcile.js';
import { resolveCreatedCredId } from './created-cred-id.js';
import { DfnsClientError, DfnsForbiddenError } from './errors.js';
import type { Logger } from '../logger.js';
import { assertKeyPair, assertPublicKeyPem } from './keys.js';
import { parseActionLogCsv } from './action-log-csv.js';
import type {
  ActionLogPage,
  ActionLogQuery,
  CreatePersonalAccessTokenInput,
  CreateServiceAccountInput,
  Created,
  CredentialRecord,
  DfnsPort,
  ListAnswer,
  NewKeyCredentialInput,
  PersonalAccessTokenRecord,
  ServiceAccountRecord,
} from './port.js';
import { KeySigner } from './key-signer.js';
import type { LoadedSdk } from './sdk-loader.js';

type ApiClient = InstanceType<LoadedSdk['sdk']['DfnsApiClient']>;
type Signer = KeySigner;

export interface SdkDfnsPortDeps {
  identity: string;
  baseUrl: string;
  orgId: string;
  runner: CallRunner;
  tokens: TokenSource;
  sdk: LoadedSdk;
  /** The Key credential user actions are signed with; absent for read-only token identities. */
  signer?: { credId: string; privateKeyPem: string };
  /** What a token identity's token is, when known: PAT rekey needs a check the others do not (createKeyCredential). */
  holds?: 'service-account' | 'pat';
  logger: Logger;
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
      ? new KeySigner({ credId: deps.signer.credId, privateKey: deps.signer.privateKeyPem })
      : undefined;
  }

  async listServiceAccounts(): Promise<ServiceAccountRecord[]> {
    return (await this.listServiceAccountsDetailed()).items;
  }

  async listServiceAccountsDetailed(): Promise<ListAnswer<ServiceAccountRecord>> {
    const op = 'listServiceAccounts';
    return this.#logUnreadable(op, await this.#call(op, (c) => c.auth.listServiceAccounts(), (raw) => parseListAnswer(op, serviceAccountSchema, toServiceAccountRecord, rawServiceAccountId, raw)));
  }

  async getServiceAccount(serviceAccountId: string): Promise<ServiceAccountRecord> {
    return this.#serviceAccountCall('getServiceAccount', serviceAccountId, (c) => c.auth.getServiceAccount({ serviceAccountId }));
  }

  async createServiceAccount(input: CreateServiceAccountInput): Promise<Created<ServiceAccountRecord>> {
    const op = 'createServiceAccount';
    const created = await this.#create(op, input, {
      invoke: (client, body) => client.auth.createServiceAccount({ body }),
      parse: (raw) => {
        const sa = parseAnswer(op, createdServiceAccountSchema, raw);
        return { record: toServiceAccountRecord(sa), accessToken: createdServiceAccountToken(sa) };
      },
      lostOne: async (identity) => lookUpCreate(await this.listServiceAccounts(), serviceAccountCandidate, identity).ours[0]?.id,
      recordKind: 'serviceAccount',
    });
    const tokens = created.record.accessTokens;
    const token = tokens.find((t) => t.isActive) ?? tokens[0];
    if (!token) throw createLostError(op, 'serviceAccount', created.record.id, 'the create answer lists no access token record');
    const credId = await resolveCreatedCredId({
      operation: op,
      recordKind: 'serviceAccount',
      recordId: created.record.id,
      answered: token.credId,
      offered: () => this.#signingCredentialIdsWith(op, created.accessToken),
      lookUp: async () => {
        const sa = await this.getServiceAccount(created.record.id);
        return (sa.accessTokens.find((t) => t.tokenId === token.tokenId) ?? sa.accessTokens.find((t) => t.isActive))?.credId ?? '';
      },
      logger: this.#deps.logger,
    });
    const fixed = tokens.map((t) => (t === token ? { ...t, credId } : t));
    return { record: { ...created.record, accessTokens: fixed }, accessToken: created.accessToken };
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
    return (await this.listPersonalAccessTokensDetailed()).items;
  }

  async listPersonalAccessTokensDetailed(): Promise<ListAnswer<PersonalAccessTokenRecord>> {
    const op = 'listPersonalAccessTokens';
    return this.#logUnreadable(op, await this.#call(op, (c) => c.auth.listPersonalAccessTokens(), (raw) => parseListAnswer(op, accessTokenSchema, toAccessTokenRecord, rawTokenId, raw)));
  }

  async getPersonalAccessToken(tokenId: string): Promise<PersonalAccessTokenRecord> {
    return this.#patCall('getPersonalAccessToken', tokenId, (c) => c.auth.getPersonalAccessToken({ tokenId }));
  }

  async createPersonalAccessToken(input: CreatePersonalAccessTokenInput): Promise<Created<PersonalAccessTokenRecord>> {
    const op = 'createPersonalAccessToken';
    const created = await this.#create(op, input, {
      invoke: (client, body) => client.auth.createPersonalAccessToken({ body }),
      parse: (raw) => {
        const pat = parseAnswer(op, createdPatSchema, raw);
        return { record: toAccessTokenRecord(pat), accessToken: pat.accessToken };
      },
      lostOne: async (identity) => lookUpCreate(await this.listPersonalAccessTokens(), patCandidate, identity).ours[0]?.tokenId,
      recordKind: 'personalAccessToken',
    });
    const credId = await resolveCreatedCredId({
      operation: op,
      recordKind: 'personalAccessToken',
      recordId: created.record.tokenId,
      answered: created.record.credId,
      offered: () => this.#signingCredentialIdsWith(op, created.accessToken),
      lookUp: async () => (await this.getPersonalAccessToken(created.record.tokenId)).credId,
      logger: this.#deps.logger,
    });
    return { record: { ...created.record, credId }, accessToken: created.accessToken };
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
    if (this.#deps.holds === 'pat') await this.#refuseKeyOnPatOwner(op);
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

  async signingCredentialIds(): Promise<string[]> {
    const op = 'signingCredentialIds';
    return this.#call(op, (client) => client.auth.createUserActionChallenge({ body: HARMLESS_ACTION }), (raw) => offeredKeyIds(op, raw));
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
        const challenge = parseAnswer(op, userActionChallengeSchema, await client.auth.createUserActionChallenge({ body: HARMLESS_ACTION }));
        const firstFactor = await signer.sign(challenge as Parameters<Signer['sign']>[0]);
        const signed = await client.auth.createUserActionSignature({ body: { challengeIdentifier: challenge.challengeIdentifier, firstFactor } });
        parseAnswer(op, userActionSchema, signed);
      },
      () => undefined,
    );
  }

  async listActionLogs(query: ActionLogQuery): Promise<ActionLogPage> {
    const op = 'listActionLogs';
    const params = new URLSearchParams({ startTime: new Date(query.startTime).toISOString(), endTime: new Date(query.endTime).toISOString() });
    if (query.userId !== undefined) {
      checkId(op, 'userId', query.userId);
      params.set('userId', query.userId);
    }
    // The SDK's listAuditLogs reads the CSV answer as JSON and drops the truncation header: the
    // same GET through the SDK's own request chain, read as text.
    return this.#deps.runner.run(
      {
        operation: op,
        invoke: async (token) => {
          const response = await this.#deps.sdk.fetch.simpleFetch(`/auth/action/logs?${params.toString()}`, {
            method: 'GET',
            apiOptions: { baseUrl: this.#deps.baseUrl, orgId: this.#deps.orgId, ...(token !== undefined ? { authToken: token } : {}) },
          });
          return { text: await response.text(), truncated: response.headers.get('x-dfns-result-truncated') === 'true' };
        },
        parse: (raw) => ({ entries: parseActionLogCsv(op, raw.text), truncated: raw.truncated }),
      },
      this.#deps.tokens,
    );
  }

  /**
   * What both creates share: a signer and a well-formed key before any request, the body, the
   * call, and — when the answer is lost — finding the create by evidence (create-reconcile.ts):
   * a record proven ours fails the call as a lost create naming it, so the caller never creates twice.
   */
  async #create<R>(
    op: string,
    input: CreateServiceAccountInput | CreatePersonalAccessTokenInput,
    spec: {
      invoke: (client: ApiClient, body: CreateBody) => Promise<unknown>;
      parse: (raw: unknown) => Created<R>;
      lostOne: (identity: CreateIdentity) => Promise<string | undefined>;
      recordKind: 'serviceAccount' | 'personalAccessToken';
    },
  ): Promise<Created<R>> {
    this.#requireSigner(op);
    checkPublicKey(op, input.publicKeyPem);
    const body = createBody(input);
    return this.#deps.runner.run(
      {
        operation: op,
        invoke: (token) => spec.invoke(this.#client(token), body),
        parse: spec.parse,
        reconcile: async (cause) => {
          const found = await spec.lostOne(createIdentity(input));
          if (found !== undefined) throw createLostError(op, spec.recordKind, found, cause.code);
          return undefined;
        },
      },
      this.#deps.tokens,
    );
  }

  /** The credential ids a challenge made with `token` (a token just created) offers; nothing is signed. */
  #signingCredentialIdsWith(operation: string, token: string): Promise<string[]> {
    const spec: CallSpec<unknown, string[]> = {
      operation,
      // No signer: a challenge needs only the bearer token, and the new credId is what we are looking for.
      invoke: () => new this.#deps.sdk.sdk.DfnsApiClient({ baseUrl: this.#deps.baseUrl, orgId: this.#deps.orgId, authToken: token }).auth.createUserActionChallenge({ body: HARMLESS_ACTION }),
      parse: (raw) => offeredKeyIds(operation, raw),
    };
    return this.#deps.runner.run(spec, { token: () => Promise.resolve(token) });
  }

  /**
   * PAT rekey, and the two readings of Dfns' rotation guide (dfns-api.md §5, §9): the new key is
   * registered on the PAT itself, or "on the PAT's linked user". Under the second, a key stored
   * for the PAT's consumers would be a credential of the human owner: it could sign as that
   * user, far beyond the PAT's permissions. Dfns tells which reading applies by what a PAT may
   * sign with: its own key alone, or its owner's keys too. Checked before anything is
   * registered; refused as forbidden so `rekeyFallback: replace` applies.
   */
  async #refuseKeyOnPatOwner(operation: string): Promise<void> {
    const own = this.#deps.signer?.credId;
    const others = (await this.signingCredentialIds()).filter((id) => id !== own);
    if (others.length === 0) return;
    throw new DfnsForbiddenError(
      `refused by dfns-rotator, not by Dfns: this PAT can sign with ${others.length} Key credential(s) besides its own (${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''}), so Dfns keeps a PAT's keys on its owner's account ` +
        "(the rotation guide's \"on the PAT's linked user\"); a new key would let whoever holds it sign as the owner. Rotate this PAT with strategy replace (or rekeyFallback: replace)",
      { operation },
    );
  }

  #logUnreadable<T>(operation: string, answer: ListAnswer<T>): ListAnswer<T> {
    for (const item of answer.unreadable) {
      this.#deps.logger.warn({ operation, identity: this.identity, index: item.index, id: item.id, problem: item.problem }, 'Dfns listed an item the worker cannot read; skipped');
    }
    return answer;
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

/** A create's body: the fields the input sets, nothing else (Dfns' defaults apply to the rest). */
type CreateBody = { name: string; publicKey: string; daysValid?: number; secondsValid?: number; permissionId?: string; externalId?: string };

function createBody(input: CreateServiceAccountInput | CreatePersonalAccessTokenInput): CreateBody {
  const secondsValid = 'secondsValid' in input ? input.secondsValid : undefined;
  return {
    name: input.name,
    publicKey: input.publicKeyPem,
    ...(input.daysValid !== undefined ? { daysValid: input.daysValid } : {}),
    ...(secondsValid !== undefined ? { secondsValid } : {}),
    ...(input.permissionId !== undefined ? { permissionId: input.permissionId } : {}),
    ...(input.externalId !== undefined ? { externalId: input.externalId } : {}),
  };
}

/** What proves a listed record is this create's (never its name alone: see create-reconcile.ts). */
function createIdentity(input: CreateServiceAccountInput | CreatePersonalAccessTokenInput): CreateIdentity {
  return {
    name: input.name,
    externalIds: [...(input.externalId !== undefined ? [input.externalId] : []), ...(input.earlierExternalIds ?? [])],
    publicKeyPem: input.publicKeyPem,
    ...(input.createdAfter !== undefined ? { createdAfter: input.createdAfter } : {}),
  };
}

/** A challenge for a harmless read: what `proveSigning` signs and `signingCredentialIds` asks about. */
const HARMLESS_ACTION = { userActionHttpMethod: 'GET', userActionHttpPath: '/auth/pats', userActionPayload: '', userActionServerKind: 'Api' } as const;

function offeredKeyIds(operation: string, raw: unknown): string[] {
  return parseAnswer(operation, userActionChallengeSchema, raw).allowCredentials.key.map((k) => k.id).filter((id) => id.length > 0);
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

