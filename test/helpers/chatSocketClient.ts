/** A chat socket client for tests (ws): collects what the box sends and waits for a message of a type. */
import { createRequire } from 'node:module';
import type { ChatServerMessage } from '../../appliance/conversations/chatProtocol.js';

export interface Ws {
  readyState: number;
  send(data: string | Buffer): void;
  close(): void;
  terminate(): void;
  on(event: 'message', l: (data: Buffer) => void): void;
  on(event: 'close', l: (code: number) => void): void;
  on(event: 'open' | 'ping', l: () => void): void;
  on(event: 'error', l: (err: Error) => void): void;
  on(event: 'unexpected-response', l: (req: unknown, res: { statusCode: number }) => void): void;
}
export type WsCtor = new (url: string, opts?: { origin?: string; autoPong?: boolean }) => Ws;
export const WebSocket = createRequire(import.meta.url)('ws') as WsCtor;

export class Client {
  readonly got: ChatServerMessage[] = [];
  closedWith: number | null = null;
  private waiters: (() => void)[] = [];
  constructor(readonly ws: Ws) {
    ws.on('message', (d) => {
      this.got.push(JSON.parse(d.toString('utf8')) as ChatServerMessage);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code) => {
      this.closedWith = code;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  send(m: object): void {
    this.ws.send(JSON.stringify(m));
  }
  /** Waits for a message matching `pred` (already received or coming). */
  async next<T extends ChatServerMessage['type']>(type: T, pred: (m: Extract<ChatServerMessage, { type: T }>) => boolean = () => true) {
    for (;;) {
      const found = this.got.find((m): m is Extract<ChatServerMessage, { type: T }> => m.type === type && pred(m as never));
      if (found !== undefined) return found;
      if (this.closedWith !== null) throw new Error(`closed ${this.closedWith} waiting for ${type}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  async closed(): Promise<number> {
    while (this.closedWith === null) await new Promise<void>((r) => this.waiters.push(r));
    return this.closedWith;
  }
}

/** Opens a chat socket from `origin` (undefined: no Origin header). */
export const openChat = (url: string, origin: string | undefined) =>
  new Promise<Client>((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    const c = new Client(ws);
    ws.on('open', () => resolve(c));
    ws.on('error', reject);
  });
