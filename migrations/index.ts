// The ordered list of migrations. knex reads them from here (not by scanning
// a folder), so the compiled build and the sources can never disagree.
import type { Knex } from 'knex';
import * as foundation from './20261203_0001_foundation.js';
import * as signInState from './20261203_0002_sign_in_state.js';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const migrations: Migration[] = [foundation, signInState];
