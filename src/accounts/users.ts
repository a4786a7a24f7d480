// Owns user accounts: one per (tenant, normalised email), with a stable `sub`,
// a user type and a status. Knows nothing of HTTP or OIDC.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/knex.js';

export interface User {
  id: string;
  tenant: string;
  email: string;
  emailNormalized: string;
  name: string | null;
  userType: string;
  status: 'active' | 'disabled';
  createdAt: Date;
  lastSignInAt: Date | null;
}

interface UserRow {
  id: string;
  tenant: string;
  email: string;
  email_normalized: string;
  name: string | null;
  user_type: string;
  status: 'active' | 'disabled';
  created_at: Date;
  updated_at: Date;
  last_sign_in_at: Date | null;
}

export class UserInputError extends Error {
  override name = 'UserInputError';
}

// Deliberately simple: one @, a dot in the domain, no spaces. The code we send is the real check.
const emailPattern = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@.]{1,63}$/;

/** Lower-cased, trimmed, Unicode-normalised; `undefined` when it is not an email address. */
export function normalizeEmail(input: string): string | undefined {
  const email = input.normalize('NFKC').trim().toLowerCase();
  if (email.length > 254 || !emailPattern.test(email)) return undefined;
  return email;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  tenant: r.tenant,
  email: r.email,
  emailNormalized: r.email_normalized,
  name: r.name,
  userType: r.user_type,
  status: r.status,
  createdAt: r.created_at,
  lastSignInAt: r.last_sign_in_at,
});

export interface NewUser {
  tenant: string;
  email: string;
  name?: string | undefined;
  userType?: string | undefined;
}

export function createUserStore(db: Db, clock: Clock) {
  return {
    /** Adds a user, or returns the existing one (`created: false`) for the same email. */
    async add(input: NewUser): Promise<{ user: User; created: boolean }> {
      const emailNormalized = normalizeEmail(input.email);
      if (!emailNormalized) throw new UserInputError(`"${input.email}" is not an email address`);
      const now = clock.now();
      const inserted = await db<UserRow>('users')
        .insert({
          id: randomUUID(),
          tenant: input.tenant,
          email: input.email.trim(),
          email_normalized: emailNormalized,
          name: input.name?.trim() || null,
          user_type: input.userType ?? 'standard',
          status: 'active',
          created_at: now,
          updated_at: now,
        })
        .onConflict(['tenant', 'email_normalized'])
        .ignore()
        .returning('*');
      if (inserted[0]) return { user: toUser(inserted[0] as UserRow), created: true };
      const existing = await db<UserRow>('users').where({ tenant: input.tenant, email_normalized: emailNormalized }).first();
      return { user: toUser(existing!), created: false };
    },

    async findByEmail(tenant: string, email: string): Promise<User | undefined> {
      const emailNormalized = normalizeEmail(email);
      if (!emailNormalized) return undefined;
      const row = await db<UserRow>('users').where({ tenant, email_normalized: emailNormalized }).first();
      return row ? toUser(row) : undefined;
    },

    async findById(tenant: string, id: string): Promise<User | undefined> {
      if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
      const row = await db<UserRow>('users').where({ tenant, id }).first();
      return row ? toUser(row) : undefined;
    },

    async list(tenant: string): Promise<User[]> {
      return (await db<UserRow>('users').where({ tenant }).orderBy('email_normalized')).map(toUser);
    },

    async setStatus(tenant: string, email: string, status: User['status']): Promise<boolean> {
      const emailNormalized = normalizeEmail(email);
      if (!emailNormalized) return false;
      const n = await db('users').where({ tenant, email_normalized: emailNormalized }).update({ status, updated_at: clock.now() });
      return n > 0;
    },

    async recordSignIn(tenant: string, id: string): Promise<void> {
      await db('users').where({ tenant, id }).update({ last_sign_in_at: clock.now() });
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
