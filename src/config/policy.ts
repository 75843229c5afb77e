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

export function resolvePolicy(config: PolicyConfig, subject: PolicySubject): CredentialPolicy {
  const matching = config.rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => ruleMatches(rule, subject));
  const first = <K extends keyof Rule>(key: K): { value: NonNullable<Rule[K]>; index: number } | undefined => {
    const hit = matching.find(({ rule }) => rule[key] !== undefined);
    return hit ? { value: hit.rule[key] as NonNullable<Rule[K]>, index: hit.index } : undefined;
  };
  const strategy = first('strategy');
  return {
    strategy: strategy?.value ?? config.rotation.defaultStrategy,
    rekeyFallback: first('rekeyFallback')?.value ?? config.rotation.rekeyFallback,
    maxKeyAgeDays: first('maxKeyAgeDays')?.value ?? config.rotation.maxKeyAgeDays,
    daysValid: first('daysValid')?.value ?? config.rotation.daysValid,
    keyAlgorithm: first('keyAlgorithm')?.value ?? config.rotation.keyAlgorithm,
    assumedLifetimeDays: first('assumedLifetimeDays')?.value ?? config.assumedLifetime.defaultDays,
    warnDays: config.thresholds.warnDays,
    rotateBeforeDays: config.thresholds.rotateBeforeDays,
    ruleIndex: strategy?.index ?? null,
  };
}
