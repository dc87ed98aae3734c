/**
 * Media plane settings. The lead's config schema maps its `webrtc` section onto this shape;
 * `resolveMediaPlaneConfig` fills defaults and rejects impossible values with a clear error.
 */
import os from 'node:os';
import { isIP } from 'node:net';
import { evxError } from '../errors.js';

export type WorkerLogLevel = 'debug' | 'warn' | 'error' | 'none';

export interface MediaPlaneConfig {
  /** mediasoup worker processes; 0 = one per CPU core. */
  readonly numWorkers: number;
  /** Address WebRTC transports listen on (ICE host candidate). */
  readonly listenIp: string;
  /** Address announced in ICE candidates when it differs from listenIp (NAT, 0.0.0.0 binds). */
  readonly announcedAddress: string | undefined;
  /** UDP port range of WebRTC and plain transports, shared by all workers. */
  readonly rtcMinPort: number;
  readonly rtcMaxPort: number;
  /** Also offer ICE-TCP candidates. */
  readonly enableTcp: boolean;
  /** Address the PlainTransports of SIP legs and of the ASR tap listen on. */
  readonly plainListenIp: string;
  /** Wait before a died worker is replaced (avoids a hot crash loop). */
  readonly workerRestartDelayMs: number;
  readonly workerLogLevel: WorkerLogLevel;
}

export const DEFAULT_MEDIA_PLANE_CONFIG: MediaPlaneConfig = {
  numWorkers: 0,
  listenIp: '127.0.0.1',
  announcedAddress: undefined,
  rtcMinPort: 40000,
  rtcMaxPort: 49999,
  enableTcp: false,
  plainListenIp: '127.0.0.1',
  workerRestartDelayMs: 500,
  workerLogLevel: 'warn',
};

/** Defaults + validation. Throws EVX_ERR_CONFIG_INVALID naming the offending key. */
export function resolveMediaPlaneConfig(partial: Partial<MediaPlaneConfig> = {}): MediaPlaneConfig {
  const c: MediaPlaneConfig = { ...DEFAULT_MEDIA_PLANE_CONFIG, ...stripUndefined(partial) };
  const bad = (key: string, why: string) =>
    evxError('EVX_ERR_CONFIG_INVALID', `webrtc.${key}: ${why}`, { details: { key: `webrtc.${key}` } });
  if (!Number.isInteger(c.numWorkers) || c.numWorkers < 0 || c.numWorkers > 256) throw bad('numWorkers', 'must be an integer 0..256');
  if (isIP(c.listenIp) === 0) throw bad('listenIp', 'must be an IPv4 or IPv6 address');
  if (isIP(c.plainListenIp) === 0) throw bad('plainListenIp', 'must be an IPv4 or IPv6 address');
  if (c.announcedAddress !== undefined && c.announcedAddress.trim() === '') throw bad('announcedAddress', 'must not be empty');
  if ((c.listenIp === '0.0.0.0' || c.listenIp === '::') && c.announcedAddress === undefined) {
    throw bad('announcedAddress', 'is required when listenIp is a wildcard address');
  }
  const port = (p: number) => Number.isInteger(p) && p >= 1024 && p <= 65535;
  if (!port(c.rtcMinPort) || !port(c.rtcMaxPort) || c.rtcMinPort > c.rtcMaxPort) {
    throw bad('rtcMinPort', 'rtcMinPort..rtcMaxPort must be a non-empty range within 1024..65535');
  }
  if (!Number.isInteger(c.workerRestartDelayMs) || c.workerRestartDelayMs < 0) throw bad('workerRestartDelayMs', 'must be >= 0');
  return c;
}

/** Worker count for `numWorkers: 0`. */
export function effectiveWorkerCount(config: MediaPlaneConfig): number {
  return config.numWorkers > 0 ? config.numWorkers : Math.max(1, os.availableParallelism());
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
