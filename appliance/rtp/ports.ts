/**
 * RTP port allocator over a configured range: hands out bound UDP socket pairs (even RTP port,
 * RTP+1 for RTCP), round-robin so a just-freed port is not reused at once (late packets of the
 * previous call must not land in the next one). Ports held by other processes are skipped.
 */
import dgram from 'node:dgram';
import { evxError } from '../errors.js';

export interface RtpPortPair {
  readonly rtpPort: number;
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
  /** Close both sockets and return the pair to the pool (idempotent). */
  release(): void;
}

function bind(host: string, port: number): Promise<dgram.Socket | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    const onError = (): void => {
      s.close();
      resolve(undefined);
    };
    s.once('error', onError);
    s.bind({ address: host, port, exclusive: true }, () => {
      s.off('error', onError);
      resolve(s);
    });
  });
}

export class RtpPortAllocator {
  private readonly inUse = new Set<number>();
  private cursor: number;
  private readonly minPort: number;
  private readonly maxPort: number;

  constructor(
    private readonly host: string,
    minPort: number,
    maxPort: number,
  ) {
    this.minPort = minPort % 2 === 0 ? minPort : minPort + 1;
    this.maxPort = maxPort;
    if (this.minPort + 1 > this.maxPort || this.minPort < 1024 || this.maxPort > 65535) {
      throw evxError('EVX_ERR_CONFIG_INVALID', 'RTP port range must hold at least one even/odd pair within 1024-65535', {
        details: { minPort, maxPort },
      });
    }
    this.cursor = this.minPort;
  }

  /** Number of pairs the range can hold. */
  get capacity(): number {
    return Math.floor((this.maxPort - this.minPort + 1) / 2);
  }

  get allocated(): number {
    return this.inUse.size;
  }

  /** Bind a free pair; throws EVX_ERR_RTP_PORTS_EXHAUSTED when every pair is busy. */
  async allocate(): Promise<RtpPortPair> {
    for (let tries = 0; tries < this.capacity; tries++) {
      const port = this.cursor;
      this.cursor += 2;
      if (this.cursor + 1 > this.maxPort) this.cursor = this.minPort;
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      const rtp = await bind(this.host, port);
      const rtcp = rtp === undefined ? undefined : await bind(this.host, port + 1);
      if (rtp === undefined || rtcp === undefined) {
        rtp?.close();
        this.inUse.delete(port);
        continue;
      }
      let released = false;
      return {
        rtpPort: port,
        rtp,
        rtcp,
        release: () => {
          if (released) return;
          released = true;
          for (const s of [rtp, rtcp]) {
            try {
              s.close();
            } catch {
              /* already closed */
            }
          }
          this.inUse.delete(port);
        },
      };
    }
    throw evxError('EVX_ERR_RTP_PORTS_EXHAUSTED', 'no free RTP port pair', {
      details: { minPort: this.minPort, maxPort: this.maxPort },
    });
  }
}
