// Owns the rate-limit counters: fixed windows in Postgres, incremented
// atomically, so every instance enforces the same limits. Time comes from the
// caller's clock (tests move it).
import type { Db } from '../db/knex.js';

export interface CounterState {
  count: number;
  expiresAt: Date;
  blockedUntil: Date | null;
}

interface Row {
  count: number;
  expires_at: Date;
  blocked_until: Date | null;
}

const toState = (r: Row): CounterState => ({ count: Number(r.count), expiresAt: new Date(r.expires_at), blockedUntil: r.blocked_until ? new Date(r.blocked_until) : null });

export function createCounters(db: Db) {
  return {
    /** Adds one in the current window (a new window starts once the old one ended). */
    async hit(key: string, windowSeconds: number, now: Date): Promise<CounterState> {
      const expires = new Date(now.getTime() + windowSeconds * 1000);
      const { rows } = await db.raw<{ rows: Row[] }>(
        `insert into counters (key, count, window_started_at, expires_at) values (?, 1, ?, ?)
         on conflict (key) do update set
           count = case when counters.expires_at <= ? then 1 else counters.count + 1 end,
           window_started_at = case when counters.expires_at <= ? then excluded.window_started_at else counters.window_started_at end,
           blocked_until = case when counters.expires_at <= ? then null else counters.blocked_until end,
           expires_at = case when counters.expires_at <= ? then excluded.expires_at else counters.expires_at end
         returning count, expires_at, blocked_until`,
        [key, now, expires, now, now, now, now],
      );
      return toState(rows[0]!);
    },

    /** Takes the key for `seconds` if it is free; else says when it frees up. */
    async claim(key: string, seconds: number, now: Date): Promise<{ ok: true } | { ok: false; until: Date }> {
      const expires = new Date(now.getTime() + seconds * 1000);
      const { rows } = await db.raw<{ rows: Row[] }>(
        `insert into counters (key, count, window_started_at, expires_at) values (?, 1, ?, ?)
         on conflict (key) do update set count = 1, window_started_at = excluded.window_started_at, expires_at = excluded.expires_at
           where counters.expires_at <= ?
         returning count, expires_at, blocked_until`,
        [key, now, expires, now],
      );
      if (rows.length) return { ok: true };
      const row = await db<Row>('counters').where('key', key).first('count', 'expires_at', 'blocked_until');
      return { ok: false, until: row ? new Date(row.expires_at) : now };
    },

    async get(key: string, now: Date): Promise<CounterState | undefined> {
      const row = await db<Row>('counters').where('key', key).andWhere('expires_at', '>', now).first('count', 'expires_at', 'blocked_until');
      return row ? toState(row) : undefined;
    },

    async block(key: string, until: Date): Promise<void> {
      await db('counters').where('key', key).update({ blocked_until: until });
    },

    async reset(key: string): Promise<void> {
      await db('counters').where('key', key).delete();
    },
  };
}

export type Counters = ReturnType<typeof createCounters>;
