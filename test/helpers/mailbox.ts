/** A local SMTP relay for tests (smtp-server on loopback) that delivers every message into a Maildir under a temp dir. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { scratchDir } from './paths.js';

export interface LocalMailbox {
  readonly port: number;
  readonly dir: string;
  /** Envelope recipients of each delivered message, in order. */
  readonly envelopes: string[][];
  /** The raw messages in the Maildir's new/, oldest first. */
  messages(): string[];
  close(): Promise<void>;
}

export async function startLocalMailbox(): Promise<LocalMailbox> {
  const dir = scratchDir('maildir');
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(dir, sub), { recursive: true });
  const envelopes: string[][] = [];
  let n = 0;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        envelopes.push(session.envelope.rcptTo.map((r) => r.address));
        n += 1;
        const name = `${Date.now()}.${String(n).padStart(6, '0')}.edgevox-test`;
        writeFileSync(join(dir, 'tmp', name), Buffer.concat(chunks));
        writeFileSync(join(dir, 'new', name), Buffer.concat(chunks));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.server.address() as AddressInfo).port,
    dir,
    envelopes,
    messages: () =>
      readdirSync(join(dir, 'new'))
        .sort()
        .map((f) => readFileSync(join(dir, 'new', f), 'utf8')),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
