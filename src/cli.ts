#!/usr/bin/env node
// The `otp-idp` command: `serve`, or an operator command (clients, users, keys,
// tenants, migrate). In embedded mode a running server answers the command.
import { runCommand, usage, needsDatabase, type CommandResult } from './commands.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { forwardCommand, lockDataDir } from './embedded.js';
import { createLogger } from './log.js';
import { openServices } from './services.js';
import { TenantError } from './tenants/index.js';
import { providerViews } from '../interactions/provider-views.js';

function fail(message: string, code = 1): never {
  process.stderr.write(`otp-idp: ${message}\n`);
  process.exit(code);
}

async function command(config: Config, argv: string[]): Promise<CommandResult> {
  if (!needsDatabase(argv)) return runCommand({ config }, argv);
  if (config.database.kind === 'embedded') {
    const forwarded = await forwardCommand(config.dataDir, argv);
    if (forwarded) return forwarded;
  }
  const release = config.database.kind === 'embedded' ? lockDataDir(config.dataDir) : () => undefined;
  try {
    const log = createLogger({ ...config, logLevel: 'warn' }, process.stderr);
    const services = await openServices(config, { log, views: providerViews });
    try {
      return await runCommand(services, argv);
    } finally {
      await services.close();
    }
  } finally {
    release();
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(usage);
    process.exit(argv.length === 0 ? 2 : 0);
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  if (argv[0] === 'serve') {
    const { serve } = await import('./main.js');
    const running = await serve(config);
    const onSignal = (signal: string) => {
      running.services.log.info({ signal }, 'signal received');
      running.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
    return;
  }
  const result = await command(config, argv);
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.code === 2 && /unknown command|no command/.test(result.stderr)) process.stderr.write(usage);
  process.exitCode = result.code;
}

main(process.argv.slice(2)).catch((err: Error) => {
  if (err instanceof TenantError || err instanceof ConfigError) fail(err.message);
  fail(err.message || String(err));
});
