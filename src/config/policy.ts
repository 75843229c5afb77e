import type { KeyAlgorithm } from '../dfns/port.js';
import type { CredentialKind, Strategy } from '../model.js';
import { matchesGlob } from './glob.js';
import type { Config, Rule } from './types.js';

/** The settings that apply to one credential after the rules are applied (first matching rule wins, per field). */
export interface CredentialPolicy {
  strategy: Strategy;
  rekeyFallback: 'replace' | 'notify';
  maxKeyAgeDays: number | null;
  /** Lifetime of a replacement; null: keep the replaced credential's lifetime. */
  daysValid: number | null;
  keyAlgorithm: KeyAlgorithm;
  assumedLifetimeDays: number;
  warnDays: readonly number[];
  rotateBeforeDays: number;
  /** Index of the rule that set the strategy, for `plan` output; null: the default. */
  ruleIndex: number | null;
}

export interface PolicySubject {
  kind: CredentialKind;
  id: string;
  name: string;
  secretName?: string;
}

export function ruleMatches(rule: Rule, s: PolicySubject): boolean {
  const m = rule.match;
  if (m.kind && m.kind !== s.kind) return false;
  if (m.id && m.id !== s.id) return false;
  if (m.name && !matchesGlob(m.name, s.name)) return false;
  if (m.secret && !(s.secretName && matchesGlob(m.secret, s.secretName))) return false;
  return true;
}

type PolicyConfig = Pick<Config, 'rules' | 'rotation' | 'assumedLifetime' | 'thresholds'>;

type Match = { rule: Rule; index: number };

/** The first matching rule that sets `key`, with its index. */
function firstSetting<K extends keyof Rule>(matching: readonly Match[], key: K): { value: NonNullable<Rule[K]>; index: number } | undefined {
  for (const { rule, index } of matching) if (rule[key] !== undefined) return { value: rule[key] as NonNullable<Rule[K]>, index };
  return undefined;
}

const NO_MATCH: readonly Match[] = [];

/** Most credentials match no rule: they share one policy object per config (a scan of 50,000 makes one, not 50,000). */
const DEFAULT_POLICIES = new WeakMap<PolicyConfig, Readonly<CredentialPolicy>>();

// Called for every credential of every scan: no closures or intermediate arrays when no rule matches.
export function resolvePolicy(config: PolicyConfig, subject: PolicySubject): Readonly<CredentialPolicy> {
  let matching: Match[] | null = null;
  for (let index = 0; index < config.rules.length; index++) {
    const rule = config.rules[index]!;
    if (ruleMatches(rule, subject)) (matching ??= []).push({ rule, index });
  }
  if (matching === null) {
    let shared = DEFAULT_POLICIES.get(config);
    if (!shared) DEFAULT_POLICIES.set(config, (shared = Object.freeze(policyOf(config, NO_MATCH))));
    return shared;
  }
  return policyOf(config, matching);
}

function policyOf(config: PolicyConfig, m: readonly Match[]): CredentialPolicy {
  const strategy = firstSetting(m, 'strategy');
  return {
    strategy: strategy?.value ?? config.rotation.defaultStrategy,
    rekeyFallback: firstSetting(m, 'rekeyFallback')?.value ?? config.rotation.rekeyFallback,
    maxKeyAgeDays: firstSetting(m, 'maxKeyAgeDays')?.value ?? config.rotation.maxKeyAgeDays,
    daysValid: firstSetting(m, 'daysValid')?.value ?? config.rotation.daysValid,
    keyAlgorithm: firstSetting(m, 'keyAlgorithm')?.value ?? config.rotation.keyAlgorithm,
    assumedLifetimeDays: firstSetting(m, 'assumedLifetimeDays')?.value ?? config.assumedLifetime.defaultDays,
    warnDays: config.thresholds.warnDays,
    rotateBeforeDays: config.thresholds.rotateBeforeDays,
    ruleIndex: strategy?.index ?? null,
  };
}
