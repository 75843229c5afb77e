import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { knobsPatchSchema } from './knobs.js';
import { parsePublicKeyPem } from './signatures.js';
import type { SeedFile } from './types.js';

/**
 * Seed file validation. Every problem is reported with its path, e.g.
 * `serviceAccounts[3].daysValid: must be 1..730`, all at once.
 */
const daysValid = z.number().int('must be an integer').min(1, 'must be 1..730').max(730, 'must be 1..730');
const ageDays = z.number().min(0, 'must be >= 0').max(100_000, 'must be <= 100000');
const name = z.string().min(1, 'must not be empty');
const count = z.number().int('must be an integer').min(0, 'must be >= 0').max(1_000_000, 'must be <= 1000000');

/** What a seeded service account and a seeded PAT share: their token's key, permission, age and life. */
const seededToken = {
  publicKeyPem: z.string().optional(),
  credId: name.optional(),
  permission: name.optional(),
  ageDays: ageDays.optional(),
  daysValid: daysValid.optional(),
  isActive: z.boolean().optional(),
  noExpiry: z.boolean().optional(),
};

const seedSchema = z.strictObject({
  /** Knobs the simulator starts with (the documented answer shapes, for a CLI run): see docs/simulator.md. */
  knobs: knobsPatchSchema.optional(),
  orgId: z.string().regex(/^or-/, 'must start with "or-"').optional(),
  permissions: z.array(z.strictObject({
    id: z.string().regex(/^pm-/, 'must start with "pm-"').optional(),
    name,
    operations: z.array(name),
  })).optional(),
  users: z.array(z.strictObject({
    username: name,
    id: z.string().regex(/^us-/, 'must start with "us-"').optional(),
    permissions: z.array(name).optional(),
    credentials: z.array(z.strictObject({ credId: name, publicKeyPem: z.string(), name: z.string().optional() })),
  })).optional(),
  serviceAccounts: z.array(z.strictObject({
    name,
    id: z.string().regex(/^us-/, 'must start with "us-"').optional(),
    ...seededToken,
  })).optional(),
  pats: z.array(z.strictObject({
    name,
    owner: name,
    ...seededToken,
  })).optional(),
  generate: z.strictObject({
    serviceAccounts: count.optional(),
    pats: count.optional(),
    patOwner: name.optional(),
    maxAgeDays: ageDays.optional(),
    daysValid: daysValid.optional(),
  }).optional(),
});

export const GENERATED_SA_PREFIX = 'gen-sa-';
export const GENERATED_PAT_PREFIX = 'gen-pat-';

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(seed)';
}

/** Cross-references and key checks zod can't express: unique names/ids, known owners/permissions, parseable PEMs. */
function crossCheck(seed: SeedFile): string[] {
  const problems: string[] = [];
  const permissionNames = new Set<string>();
  const ids = new Map<string, string>();
  const claimId = (id: string | undefined, where: string) => {
    if (id === undefined) return;
    const prior = ids.get(id);
    if (prior) problems.push(`${where}: id "${id}" is already used by ${prior}`);
    else ids.set(id, where);
  };
  seed.permissions?.forEach((p, i) => {
    if (permissionNames.has(p.name)) problems.push(`permissions[${i}].name: duplicate permission name "${p.name}"`);
    permissionNames.add(p.name);
    claimId(p.id, `permissions[${i}].id`);
  });
  const knownPermission = (value: string | undefined, where: string) => {
    if (value !== undefined && !permissionNames.has(value)) problems.push(`${where}: unknown permission "${value}" (not in permissions[])`);
  };
  const credIds = new Map<string, string>();
  const claimCredId = (credId: string | undefined, where: string) => {
    if (credId === undefined) return;
    const prior = credIds.get(credId);
    if (prior) problems.push(`${where}: credId "${credId}" is already used by ${prior}`);
    else credIds.set(credId, where);
  };
  const checkPem = (pem: string | undefined, where: string) => {
    if (pem === undefined) return;
    const parsed = parsePublicKeyPem(pem);
    if (typeof parsed === 'string') problems.push(`${where}: ${parsed}`);
  };

  const usernames = new Set<string>();
  seed.users?.forEach((u, i) => {
    if (usernames.has(u.username)) problems.push(`users[${i}].username: duplicate username "${u.username}"`);
    usernames.add(u.username);
    claimId(u.id, `users[${i}].id`);
    u.permissions?.forEach((p, j) => knownPermission(p, `users[${i}].permissions[${j}]`));
    u.credentials.forEach((c, j) => {
      claimCredId(c.credId, `users[${i}].credentials[${j}].credId`);
      checkPem(c.publicKeyPem, `users[${i}].credentials[${j}].publicKeyPem`);
    });
  });

  // Seeded tokens are exposed by name, so SA and PAT names must be unique across both lists.
  const tokenNames = new Map<string, string>();
  const claimName = (value: string, where: string) => {
    const prior = tokenNames.get(value);
    if (prior) problems.push(`${where}: name "${value}" is already used by ${prior} (seeded token names must be unique)`);
    else tokenNames.set(value, where);
    if (seed.generate && (value.startsWith(GENERATED_SA_PREFIX) || value.startsWith(GENERATED_PAT_PREFIX))) {
      problems.push(`${where}: names starting with "${GENERATED_SA_PREFIX}" or "${GENERATED_PAT_PREFIX}" are reserved for generate`);
    }
  };
  seed.serviceAccounts?.forEach((sa, i) => {
    claimName(sa.name, `serviceAccounts[${i}].name`);
    claimId(sa.id, `serviceAccounts[${i}].id`);
    claimCredId(sa.credId, `serviceAccounts[${i}].credId`);
    checkPem(sa.publicKeyPem, `serviceAccounts[${i}].publicKeyPem`);
    knownPermission(sa.permission, `serviceAccounts[${i}].permission`);
  });
  seed.pats?.forEach((pat, i) => {
    claimName(pat.name, `pats[${i}].name`);
    claimCredId(pat.credId, `pats[${i}].credId`);
    checkPem(pat.publicKeyPem, `pats[${i}].publicKeyPem`);
    knownPermission(pat.permission, `pats[${i}].permission`);
    if (!usernames.has(pat.owner)) problems.push(`pats[${i}].owner: unknown user "${pat.owner}" (not in users[])`);
  });
  const gen = seed.generate;
  if (gen?.patOwner !== undefined && !usernames.has(gen.patOwner)) {
    problems.push(`generate.patOwner: unknown user "${gen.patOwner}" (not in users[])`);
  }
  if ((gen?.pats ?? 0) > 0 && gen?.patOwner === undefined && usernames.size === 0) {
    problems.push('generate.pats: needs a PAT owner: add users[] or set generate.patOwner');
  }
  return problems;
}

/** Validates a seed (already parsed from JSON/YAML). Throws ConfigError listing every problem by path. */
export function parseSeed(input: unknown, source = 'simulator seed'): SeedFile {
  const parsed = seedSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`), source);
  }
  const seed = parsed.data as SeedFile;
  const problems = crossCheck(seed);
  if (problems.length > 0) throw new ConfigError(problems, source);
  return seed;
}

/** Reads and validates a seed file: JSON, or YAML when the name ends in .yaml/.yml. */
export async function loadSeedFile(path: string): Promise<SeedFile> {
  const source = `simulator seed file ${path}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`], source);
  }
  let raw: unknown;
  try {
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`not valid ${extname(path).toLowerCase().startsWith('.y') ? 'YAML' : 'JSON'}: ${(err as Error).message}`], source);
  }
  return parseSeed(raw, source);
}
