import { callerLabel, type Caller } from './caller.js';
import { forbidden } from './dfns-errors.js';
import type { Assignment, SimState } from './state.js';

/** Dfns permission operation names the simulator checks (SDK permission enum, 0.8.21). */
export const PERM = {
  saRead: 'Auth:ServiceAccounts:Read',
  saCreate: 'Auth:ServiceAccounts:Create',
  saUpdate: 'Auth:ServiceAccounts:Update',
  saActivate: 'Auth:ServiceAccounts:Activate',
  saDeactivate: 'Auth:ServiceAccounts:Deactivate',
  saDelete: 'Auth:ServiceAccounts:Delete',
  patCreate: 'Auth:Pats:Create',
  assign: 'Permissions:Assign',
  logsRead: 'Auth:Logs:Read',
} as const;

export function operationsOf(state: SimState, assignments: readonly Assignment[]): Set<string> {
  const ops = new Set<string>();
  for (const a of assignments) {
    const permission = state.permissions.get(a.permissionId);
    if (permission) for (const op of permission.operations) ops.add(op);
  }
  return ops;
}

/**
 * What the caller may do. A PAT has its own assignments but never more than its owner has now
 * ("A PAT cannot exceed its user's permissions"): the intersection.
 */
export function effectiveOperations(state: SimState, caller: Caller): Set<string> {
  const own = operationsOf(state, caller.user.assignments);
  if (caller.kind !== 'pat') return own;
  const pat = operationsOf(state, caller.token.assignments);
  return new Set([...pat].filter((op) => own.has(op)));
}

/** 403 in Dfns' words: "<Kind> <id> is not authorized to perform operation (<Perm>)". */
export function requirePermission(state: SimState, caller: Caller, ...operations: string[]): void {
  const ops = effectiveOperations(state, caller);
  for (const op of operations) {
    if (!ops.has(op)) {
      throw forbidden(`${callerLabel(caller)} is not authorized to perform operation (${op})`, { operation: op });
    }
  }
}

/** 403 for a caller kind Dfns refuses outright, whatever its permissions (e.g. an SA creating an SA). */
export function requireCallerKind(caller: Caller, allowed: readonly Caller['kind'][], what: string): void {
  if (!allowed.includes(caller.kind)) {
    const who = { user: 'org users', serviceAccount: 'service accounts', pat: 'personal access tokens' };
    throw forbidden(
      `${callerLabel(caller)} is not allowed to ${what}: only ${allowed.map((k) => who[k]).join(' and ')} may`,
      { callerKind: caller.kind },
    );
  }
}
