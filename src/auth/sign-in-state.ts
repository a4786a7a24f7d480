// Owns where a sign-in in progress stands, per oidc-provider interaction:
// the email entered, the code challenge, the verified user. Stored in Postgres
// so a restart or another instance picks the sign-in up where it was.
import type { Clock } from '../clock.js';
import type { Db } from '../db/knex.js';

export interface SignInState {
  tenant: string;
  interactionUid: string;
  clientId: string | null;
  email: string | null;
  emailNormalized: string | null;
  challengeId: string | null;
  verifiedUserId: string | null;
  verifiedAt: Date | null;
}

interface Row {
  tenant: string;
  interaction_uid: string;
  client_id: string | null;
  email: string | null;
  email_normalized: string | null;
  challenge_id: string | null;
  verified_user_id: string | null;
  verified_at: Date | null;
}

const toState = (r: Row): SignInState => ({
  tenant: r.tenant,
  interactionUid: r.interaction_uid,
  clientId: r.client_id,
  email: r.email,
  emailNormalized: r.email_normalized,
  challengeId: r.challenge_id,
  verifiedUserId: r.verified_user_id,
  verifiedAt: r.verified_at,
});

/** A sign-in state outlives its interaction by a little, for the "expired" page. */
const KEEP_SECONDS = 2 * 3600;

export function createSignInStates(db: Db, clock: Clock) {
  const expires = () => new Date(clock.now().getTime() + KEEP_SECONDS * 1000);
  const upsert = async (tenant: string, interactionUid: string, fields: Partial<Row>) => {
    const now = clock.now();
    await db('sign_in_states')
      .insert({ tenant, interaction_uid: interactionUid, created_at: now, updated_at: now, expires_at: expires(), ...fields })
      .onConflict(['tenant', 'interaction_uid'])
      .merge({ ...fields, updated_at: now, expires_at: expires() });
  };
  return {
    async get(tenant: string, interactionUid: string): Promise<SignInState | undefined> {
      const row = await db<Row>('sign_in_states').where({ tenant, interaction_uid: interactionUid }).first();
      return row ? toState(row) : undefined;
    },
    /** "Sign in" with an email: forgets any earlier code or verification of this interaction. */
    async setEmail(tenant: string, interactionUid: string, clientId: string, email: string, emailNormalized: string) {
      await upsert(tenant, interactionUid, { client_id: clientId, email, email_normalized: emailNormalized, challenge_id: null, verified_user_id: null, verified_at: null });
    },
    async setChallenge(tenant: string, interactionUid: string, challengeId: string) {
      await upsert(tenant, interactionUid, { challenge_id: challengeId });
    },
    async setVerified(tenant: string, interactionUid: string, userId: string) {
      await upsert(tenant, interactionUid, { verified_user_id: userId, verified_at: clock.now() });
    },
    async clear(tenant: string, interactionUid: string) {
      await db('sign_in_states').where({ tenant, interaction_uid: interactionUid }).delete();
    },
  };
}

export type SignInStates = ReturnType<typeof createSignInStates>;
