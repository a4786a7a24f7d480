// Owns single-ownership of the embedded database: the serving process holds a
// lock file on DATA_DIR and answers CLI commands over a local socket, so that
// `otp-idp users add ...` works while `npm start` runs.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { CommandResult } from './commands.js';

export const socketPath = (dataDir: string) => path.join(dataDir, 'otp-idp.sock');
const lockPath = (dataDir: string) => path.join(dataDir, 'otp-idp.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws naming the process that holds it. Returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = lockPath(dataDir);
  for (let i = 0; i < 2; i++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (pid && pid !== process.pid && alive(pid)) {
        throw new Error(`the embedded database in ${dataDir} is in use by process ${pid} (stop it, or set DATABASE_URL)`);
      }
      fs.rmSync(file, { force: true }); // stale lock from a process that died
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

/** Serves `handle(argv)` on the data folder's socket (owner-only permissions). */
export function serveCommands(dataDir: string, handle: (argv: string[]) => Promise<CommandResult>): net.Server {
  const file = socketPath(dataDir);
  fs.rmSync(file, { force: true });
  const server = net.createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > 1_000_000) socket.destroy();
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      let argv: string[];
      try {
        argv = JSON.parse(buffer.slice(0, nl)) as string[];
        if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new Error('bad request');
      } catch {
        socket.end(JSON.stringify({ code: 2, stdout: '', stderr: 'otp-idp: bad request\n' }) + '\n');
        return;
      }
      handle(argv)
        .catch((err: Error): CommandResult => ({ code: 1, stdout: '', stderr: `otp-idp: ${err.message}\n` }))
        .then((result) => socket.end(JSON.stringify(result) + '\n'));
    });
    socket.on('error', () => undefined);
  });
  const old = process.umask(0o177);
  server.listen(file);
  process.umask(old);
  return server;
}

/** Sends argv to a running server; undefined when none is listening. */
export function forwardCommand(dataDir: string, argv: string[]): Promise<CommandResult | undefined> {
  const file = socketPath(dataDir);
  if (!fs.existsSync(file)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const socket = net.connect(file);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify(argv) + '\n'));
    socket.on('data', (chunk: string) => (buffer += chunk));
    socket.on('end', () => {
      try {
        resolve(JSON.parse(buffer) as CommandResult);
      } catch {
        reject(new Error('the running server sent an unreadable answer'));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(undefined);
      else reject(err);
    });
  });
}
