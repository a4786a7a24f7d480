// Development-only routes: the dev mailbox. Never mounted when NODE_ENV=production.
import Router from '@koa/router';
import type { Services } from '../src/services.js';

export function createDevRoutes(_services: Services) {
  const router = new Router();
  return router;
}
