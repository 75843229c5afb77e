import type { KeyAlgorithm } from '../dfns/port.js';
import type { CredentialKind } from '../model.js';

/**
 * The secret store port. Modelled on AWS Secrets Manager's staging labels: a secret has numbered
 * versions, and the labels `pending`, `current` and `previous` each point at one of them.
 *
 * A store is deliberately dumb: it reads and writes whole `SecretRecord`s with optimistic
 * concurrency (compare-and-set on `revision`). Stage moves are pure functions in `stages.ts`, so
 * every adapter behaves identically and "promote" is one atomic write.
 */

export type Stage = 'pending' | 'current' | 'previous';

export const STAGES: readonly Stage[] = ['pending', 'current', 'previous'];

/** What a consuming service needs to act as the credential. Holds secrets: never log it. */
export interface ManagedSecret {
  kind: CredentialKind;
  orgId: string;
  baseUrl: string;
  /** SA user id (`us-…`) or PAT token id (`to-…`); null until the Dfns create has answered. */
  credentialId: string | null;
  /** Dfns name of the credential. */
  name: string;
  /** The Key credential id to sign user actions with. */
  credId: string;
  /** Null in a `pending` version staged before the Dfns create. */
  accessToken: string | null;
  privateKeyPem: string;
  publicKeyPem: string;
  algorithm: KeyAlgorithm;
  /** ISO-8601 expiry from the token's JWT `exp`; null when unknown. */
  expiresAt: string | null;
}

/** Non-secret facts about a version, readable without the value's secrets mattering. */
export interface VersionMetadata {
  /** Epoch ms when this version was written. */
  createdAt: number;
  /** Epoch ms from the token's `exp`, when known. */
  expiresAt?: number | null;
  credId?: string;
  credentialId?: string | null;
  /** Epoch ms when a rotation made this version `current`. */
  rotatedAt?: number;
  /** Epoch ms when `adopt` stored this version (adopted, not rotated: no rotatedAt). */
  adoptedAt?: number;
  rotationId?: string;
  /** For PATs: the owning user's id, so the scan lists each owner's PATs once. */
  ownerId?: string;
  /**
   * Pending versions only: written before each Dfns create of the rotation, so the store itself
   * says a create may have been sent (and when the first one began) if the rotation's record is
   * lost, and an unwritable store stops the rotation before Dfns is called.
   */
  createAttempt?: { attempt: number; name: string; firstAt: number };
}

export interface SecretVersion {
  /** 1, 2, 3… never reused within a secret. */
  versionId: number;
  stages: Stage[];
  metadata: VersionMetadata;
  value: ManagedSecret;
}

export interface SecretRecord {
  name: string;
  /** Incremented on every write; the compare-and-set token. */
  revision: number;
  versions: SecretVersion[];
}

/** A secret's labels and metadata without its values: what `list` returns. */
export interface SecretSummary {
  name: string;
  revision: number;
  versions: { versionId: number; stages: Stage[]; metadata: VersionMetadata; kind: CredentialKind; name: string }[];
}

/** A secret the store holds but could not read, and why (no secret material in either). */
export interface UnreadableSecret {
  /** The secret's name, or the file/key that could not be decoded to one. */
  name: string;
  /** Where it is: a file path, a Vault path. */
  where: string;
  error: Error;
}

export interface StoreListing {
  summaries: SecretSummary[];
  unreadable: UnreadableSecret[];
}

export interface SecretStore {
  /** e.g. `file:/var/lib/dfns-rotator/secrets`; no secrets in it. */
  readonly description: string;
  /** Every secret's labels and metadata, no values. Throws when any secret is unreadable. */
  list(): Promise<SecretSummary[]>;
  /**
   * Like `list`, but a secret that cannot be read (a damaged file, data the key does not open)
   * is reported beside the others instead of failing the whole listing, so one bad file does
   * not leave every other credential unwatched. Adapters without it are read with `list`.
   */
  listReadable?(): Promise<StoreListing>;
  /** The whole record, or null when there is no such secret. */
  get(name: string): Promise<SecretRecord | null>;
  /**
   * Writes the record if the stored revision still equals `expectedRevision` (null: the secret must
   * not exist yet). Returns the new revision. Throws `SecretConflictError` otherwise. The write is
   * atomic: a crash leaves either the old record or the new one, never a mix.
   */
  put(name: string, versions: SecretVersion[], expectedRevision: number | null): Promise<number>;
  /** Releases files, connections. */
  close?(): Promise<void>;
}

/** Secret names are paths like `payments/api-bot`: letters, digits, `._-/`, no `..`, ≤ 200 chars. */
export const SECRET_NAME_PATTERN = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;
