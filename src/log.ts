// Owns logging: one pino logger, JSON in production, pretty in development,
// with every field that can carry a secret, code or token redacted.
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

export const redactPaths = [
  'code',
  '*.code',
  'otp',
  '*.otp',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'client_secret',
  '*.client_secret',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'id_token',
  '*.id_token',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export function createLogger(config: Pick<Config, 'logLevel' | 'production'>, stream?: NodeJS.WritableStream): Logger {
  const options = {
    level: config.logLevel,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: 'otp-idp' },
  };
  if (stream) return pino(options, stream as pino.DestinationStream);
  if (!config.production && process.stdout.isTTY) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, destination: 1 } } });
  }
  return pino(options);
}
