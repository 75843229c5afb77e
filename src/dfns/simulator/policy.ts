import { newId } from './ids.js';
import type { AuthedRequest, Reply, SimEnv } from './router.js';

/**
 * The policyPending knob: the operation passed every check (auth, user action, permission,
 * validation) and is held for approval instead of performed. 202 with a body shaped like a Dfns
 * policy approval (the SDK throws PolicyPendingError carrying it). Nothing changes, and the
 * user action is used up, as with a real approval request.
 */
export function policyGate(env: SimEnv, req: AuthedRequest): Reply | null {
  if (!env.knobs.policyPending.includes(req.operation)) return null;
  const now = env.now();
  return {
    status: 202,
    body: {
      id: newId('ap'),
      orgId: env.state.orgId,
      initiatorId: req.caller.user.userId,
      status: 'Pending',
      activity: { kind: req.operation, method: req.method, path: req.pathname },
      evaluatedPolicies: [{ policyId: 'po-simulated', triggered: true, reason: 'simulator policyPending knob' }],
      decisions: [],
      dateCreated: new Date(now).toISOString(),
      expirationDate: new Date(now + 24 * 3_600_000).toISOString(),
    },
  };
}
