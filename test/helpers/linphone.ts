/**
 * Drive linphonec 5.1 (Debian `linphone-cli`: liblinphone + belle-sip + oRTP + mediastreamer2, a
 * SIP stack independent of baresip/libre) as a real phone in end-to-end tests.
 *
 * `startLinphone()` writes a throw-away dir with a `linphonerc` (`linphonec -c <rc>`), runs
 * linphonec with HOME there (its history, ZRTP cache and user certificates land in it) and drives
 * its console on stdin. What it prints on stdout is parsed into events (`LinphoneEvent`); its own
 * log, with the SIP trace, goes to `<dir>/linphone.log` (`-d 1 -l`). The microphone is a WAV file
 * (`soundcard use files` + `play <wav>`), so no sound card is opened; nothing is played.
 *
 * Facts about linphone 5.1.65 this relies on (read from liblinphone 5.1.65 and checked by running):
 *  - The core opens its database at start; when that fails (no ~/.local/share/linphone) it never
 *    reaches LinphoneGlobalOn, opens no SIP socket, and every call fails with "No listening point".
 *    `[storage] uri=null` (+ `call_logs_db_uri`, `zrtp_secrets_db_uri`) turns the databases off.
 *  - Without `[rtp] bind_address` the SDP `c=` is the address of the default route (an IPv6 one
 *    here), not loopback; `[sip] bind_address` + `guess_hostname=0` keep SIP on 127.0.0.1 too.
 *  - There are no accounts: the transport of a call is the dialled URI's `;transport=`, which
 *    `dial()` appends. TLS is client-only here: `verify_server_certs=0` + `verify_server_cn=0`
 *    accept our self-signed certificate.
 *  - `media_encryption=srtp` always offers `RTP/SAVP` with one `a=crypto` per `srtp_crypto_suites`
 *    entry (default AES_CM_128_HMAC_SHA1_80, _32, AES_256_CM_HMAC_SHA1_80, _32; this build has no
 *    AEAD_AES_*_GCM: "Unsupported crypto suite"). Without `media_encryption_mandatory=1`, a 488
 *    makes it offer again as plain `RTP/AVP` (the call then runs unencrypted); with it, the call fails.
 *  - mediastreamer2 keys SRTCP of AES_CM_128_HMAC_SHA1_32 with a 32-bit tag (RFC 4568 says 80):
 *    our RFC SRTCP makes it log "srtp_unprotect_rtcp() failed (14)"; SRTP itself is fine.
 *  - With files instead of a sound card the WAV is played in a loop (0.5 s pause between runs), so
 *    the call never ends by itself; any rate works (it is resampled), mono 16-bit is what is tested.
 *  - `[misc] add_missing_audio_codecs=0` keeps the codec list to the `[audio_codec_N]` sections;
 *    telephone-event is offered as well. G.722 is `mime=G722 rate=8000` (its RTP clock rate).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, tcpPortFree } from '../e2e/sip/harness.js';

export const LINPHONEC_BIN = '/usr/bin/linphonec';

/** True when linphonec can run here. */
export function haveLinphone(): boolean {
  return existsSync(LINPHONEC_BIN);
}

export type LinphoneTransport = 'udp' | 'tcp' | 'tls';
export type LinphoneCodec = 'PCMU' | 'PCMA' | 'G722';
/**
 * `srtp`: SDES, `RTP/SAVP`, but a 488 makes linphone retry without encryption;
 * `srtp-mand`: the same with `media_encryption_mandatory=1` (no unencrypted retry: the call fails).
 */
export type LinphoneMediaEnc = 'none' | 'srtp' | 'srtp-mand';
/** The SDES suites mediastreamer2 5.1 (as built by Debian) can offer. */
export type LinphoneSrtpSuite =
  'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AES_256_CM_HMAC_SHA1_80' | 'AES_256_CM_HMAC_SHA1_32';

/** `[audio_codec_N]` of each codec: the RTP clock rate, so G.722 is 8000. */
const CODEC_RC: Record<LinphoneCodec, { mime: string; rate: number }> = {
  PCMU: { mime: 'PCMU', rate: 8000 },
  PCMA: { mime: 'PCMA', rate: 8000 },
  G722: { mime: 'G722', rate: 8000 },
};

export interface LinphoneOptions {
  /** WAV played (looped) as the microphone; mono 16-bit PCM (see `makeLinphoneWav`). */
  readonly wav: string;
  /** Appended as `;transport=` to URIs `dial()` gets without one (default udp). */
  readonly transport?: LinphoneTransport;
  /** Offered codecs in order; no others (default PCMU, PCMA, G722). */
  readonly codecs?: readonly LinphoneCodec[];
  /** Default none. */
  readonly mediaEnc?: LinphoneMediaEnc;
  /** `srtp_crypto_suites`: the `a=crypto` lines offered, in order (default: linphone's four). */
  readonly srtpSuites?: readonly LinphoneSrtpSuite[];
  /**
   * Verify the server's TLS certificate against this PEM file (`root_ca`, `verify_server_certs=1`,
   * `verify_server_cn=1`). Default: no verification at all, which our self-signed certificates need.
   */
  readonly tlsCaFile?: string;
  /** User part of the From / Contact (default `linphone`). */
  readonly user?: string;
  /** Extra rc entries, by section: `{ sip: { inc_timeout: 10 } }`; they override the helper's. */
  readonly extraConfig?: Readonly<Record<string, Readonly<Record<string, string | number>>>>;
  /** RTP port range (default 20000-29999, away from the 40000+ ranges our SipServer tests use). */
  readonly rtpPorts?: readonly [number, number];
  readonly startTimeoutMs?: number;
  /** Characters of stdout kept for failure messages (default 256 KiB, newest kept). */
  readonly logLimit?: number;
}

/** What linphonec printed about a call (console/linphonec.c `linphonec_call_state_changed`). */
export type LinphoneEventType =
  | 'outgoing-init' //     Establishing call id to <uri>, assigned id N
  | 'progress' //          Call N to <uri> in progress.             (1xx)
  | 'ringing' //           Call N to <uri> ringing.                 (180)
  | 'early-media' //       Call N with <uri> early media.           (183 + SDP)
  | 'connected' //         Call N with <uri> connected.             (200 OK, ACK sent)
  | 'streams-running' //   Media streams established with <uri> for call N (audio).
  | 'paused-by-remote' //  Call N has been paused by <uri>.
  | 'error' //             Call N with <uri> error.                 (failed: 4xx-6xx, no listening point, …)
  | 'ended' //             Call N with <uri> ended (<reason>).      (BYE either way)
  | 'incoming' //          Receiving new incoming call from <uri>, assigned id N
  | 'invite-failed' //     Error from linphone_core_invite.
  | 'no-such-call'; //     No active calls / Sorry, no call with id N exists at this time.

export interface LinphoneEvent {
  readonly type: LinphoneEventType;
  /** linphonec's own call number (1, 2, …), not the SIP Call-ID; undefined for invite-failed. */
  readonly id: number | undefined;
  /** The remote URI as linphonec prints it (in <> when it has parameters). */
  readonly peer: string | undefined;
  /** `ended` only: linphone_reason_to_string(), e.g. "No error", "Call declined", "Not acceptable here". */
  readonly reason: string | undefined;
  /** The line as printed. */
  readonly line: string;
}

const EVENT_PATTERNS: ReadonlyArray<readonly [LinphoneEventType, RegExp, (m: RegExpMatchArray) => Partial<LinphoneEvent>]> = [
  ['outgoing-init', /^Establishing call id to (.+), assigned id (\d+)$/, (m) => ({ peer: m[1], id: Number(m[2]) })],
  ['progress', /^Call (\d+) to (.+) in progress\.$/, (m) => ({ id: Number(m[1]), peer: m[2] })],
  ['ringing', /^Call (\d+) to (.+) ringing\.$/, (m) => ({ id: Number(m[1]), peer: m[2] })],
  ['early-media', /^Call (\d+) with (.+) early media\.$/, (m) => ({ id: Number(m[1]), peer: m[2] })],
  ['connected', /^Call (\d+) with (.+) connected\.$/, (m) => ({ id: Number(m[1]), peer: m[2] })],
  ['streams-running', /^Media streams established with (.+) for call (\d+) \(\w+\)\.$/, (m) => ({ peer: m[1], id: Number(m[2]) })],
  ['paused-by-remote', /^Call (\d+) has been paused by (.+)\.$/, (m) => ({ id: Number(m[1]), peer: m[2] })],
  ['error', /^Call (\d+) with (.+) error\.$/, (m) => ({ id: Number(m[1]), peer: m[2] })],
  ['ended', /^Call (\d+) with (.+) ended \((.*)\)\.$/, (m) => ({ id: Number(m[1]), peer: m[2], reason: m[3] })],
  ['incoming', /^Receiving new incoming call from (.+), assigned id (\d+)$/, (m) => ({ peer: m[1], id: Number(m[2]) })],
  ['invite-failed', /^Error from linphone_core_invite\.$/, () => ({})],
  [
    'no-such-call',
    /^No active calls?\.?$|^Sorry, no call with id (\d+) exists/,
    (m) => ({ id: m[1] === undefined ? undefined : Number(m[1]) }),
  ],
];

/** Terminal escapes (readline may send some even with TERM=dumb). */
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Make the microphone clip: mono signed 16-bit WAV at `rate` Hz (8000 for G.711, 16000 suits G.722). */
export function makeLinphoneWav(src: string, out: string, rate = 8000): string {
  execFileSync('sox', [src, '-r', String(rate), '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'wav', out], { stdio: 'ignore' });
  return out;
}

/** A loopback port free for UDP and TCP (SIP) whose TLS twin is free too. */
async function freeSipPorts(): Promise<{ sipPort: number; tlsPort: number }> {
  for (let i = 0; i < 50; i++) {
    const sipPort = await freePort();
    const tlsPort = await freePort();
    if (tlsPort !== sipPort && (await tcpPortFree(sipPort)) && (await tcpPortFree(tlsPort))) return { sipPort, tlsPort };
  }
  throw new Error('linphone: no free SIP ports');
}

type RcSections = Record<string, Record<string, string | number>>;

function renderRc(sections: RcSections): string {
  return Object.entries(sections)
    .map(([name, keys]) => [`[${name}]`, ...Object.entries(keys).map(([k, v]) => `${k}=${v}`), ''].join('\n'))
    .join('\n');
}

const live = new Set<LinphoneControl>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a worker dies without running afterEach/afterAll: no orphaned phones or dirs.
  process.once('exit', () => {
    for (const l of live) l.killNow();
  });
}

/** Start linphonec and wait until its core is on with the WAV as microphone. Always `await phone.close()`. */
export async function startLinphone(opts: LinphoneOptions): Promise<LinphoneControl> {
  const wav = path.resolve(opts.wav);
  // linphone would place the call anyway and send silence: fail here instead
  if (!existsSync(wav)) throw new Error(`linphone: no WAV at ${wav}`);
  if (opts.tlsCaFile !== undefined && !existsSync(opts.tlsCaFile)) throw new Error(`linphone: no CA file at ${opts.tlsCaFile}`);
  const { sipPort, tlsPort } = await freeSipPorts();
  const user = opts.user ?? 'linphone';
  const codecs = opts.codecs ?? ['PCMU', 'PCMA', 'G722'];
  if (codecs.length === 0) throw new Error('linphone: no codecs');
  const [rtpMin, rtpMax] = opts.rtpPorts ?? [20000, 29999];
  const mediaEnc = opts.mediaEnc ?? 'none';

  const rc: RcSections = {
    storage: { uri: 'null', call_logs_db_uri: 'null', zrtp_secrets_db_uri: 'null' },
    sip: {
      sip_port: sipPort,
      sip_tcp_port: sipPort,
      sip_tls_port: tlsPort,
      bind_address: '127.0.0.1',
      use_ipv6: 0,
      contact: `sip:${user}@127.0.0.1`,
      guess_hostname: 0,
      media_encryption: mediaEnc === 'none' ? 'none' : 'srtp',
      media_encryption_mandatory: mediaEnc === 'srtp-mand' ? 1 : 0,
      ...(opts.srtpSuites ? { srtp_crypto_suites: opts.srtpSuites.join(', ') } : {}),
      verify_server_certs: opts.tlsCaFile ? 1 : 0,
      verify_server_cn: opts.tlsCaFile ? 1 : 0,
      ...(opts.tlsCaFile ? { root_ca: path.resolve(opts.tlsCaFile) } : {}),
    },
    rtp: { audio_rtp_port: `${rtpMin}-${rtpMax}`, bind_address: '127.0.0.1' },
    video: { capture: 0, display: 0, automatically_initiate: 0, automatically_accept: 0 },
    sound: { echocancellation: 0 },
    misc: { add_missing_audio_codecs: 0 },
  };
  codecs.forEach((c, i) => (rc[`audio_codec_${i}`] = { mime: CODEC_RC[c].mime, rate: CODEC_RC[c].rate, channels: 1, enabled: 1 }));
  for (const [section, keys] of Object.entries(opts.extraConfig ?? {})) rc[section] = { ...(rc[section] ?? {}), ...keys };

  const dir = mkdtempSync(path.join(tmpdir(), 'evx-linphone-'));
  const rcFile = path.join(dir, 'linphonerc');
  const logFile = path.join(dir, 'linphone.log');
  let child: ChildProcess;
  try {
    writeFileSync(rcFile, renderRc(rc));
    child = spawn(LINPHONEC_BIN, ['-c', rcFile, '-d', '1', '-l', logFile], {
      cwd: dir,
      env: {
        ...process.env,
        HOME: dir,
        XDG_DATA_HOME: path.join(dir, 'data'),
        XDG_CONFIG_HOME: path.join(dir, 'config'),
        TERM: 'dumb',
        // no sound card is used, but PulseAudio is probed at start: never reach (or spawn) a real one
        PULSE_SERVER: `unix:${path.join(dir, 'no-pulse')}`,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const phone = new LinphoneControl(child, {
    dir,
    rcFile,
    logFile,
    sipPort,
    tlsPort,
    aor: `sip:${user}@127.0.0.1`,
    transport: opts.transport ?? 'udp',
    logLimit: opts.logLimit ?? 256 * 1024,
  });
  installExitHook();
  try {
    await phone.init(wav, opts.startTimeoutMs ?? 10_000);
  } catch (e) {
    await phone.close();
    throw e;
  }
  return phone;
}

interface ControlInit {
  readonly dir: string;
  readonly rcFile: string;
  readonly logFile: string;
  readonly sipPort: number;
  readonly tlsPort: number;
  readonly aor: string;
  readonly transport: LinphoneTransport;
  readonly logLimit: number;
}

interface LineWaiter {
  readonly predicate: (line: string) => boolean;
  readonly resolve: (line: string) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface EventWaiter {
  readonly predicate: (e: LinphoneEvent) => boolean;
  /** Rejects the wait when it matches first (e.g. the call failed while waiting for streams). */
  readonly failOn: ((e: LinphoneEvent) => boolean) | undefined;
  readonly resolve: (e: LinphoneEvent) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** The running phone: its ports and dir, its console (stdin/stdout) and what it printed. */
export class LinphoneControl {
  readonly dir: string;
  readonly rcFile: string;
  /** linphone's own log (SIP trace included). */
  readonly logFile: string;
  /** UDP and TCP listen here (127.0.0.1). */
  readonly sipPort: number;
  /** TLS listens here (needed to place TLS calls); no certificate of its own is configured. */
  readonly tlsPort: number;
  /** From / Contact user and host (no parameters). */
  readonly aor: string;
  readonly transport: LinphoneTransport;
  /** Every call event printed so far, in order. */
  readonly events: LinphoneEvent[] = [];
  private readonly child: ChildProcess;
  private readonly logLimit: number;
  private logText = '';
  private partial = '';
  /** Every console line (prompts stripped), newest last; `lineCursor` is where line waits start. */
  private readonly lines: string[] = [];
  private lineCursor = 0;
  private cursor = 0;
  private lineWaiters: LineWaiter[] = [];
  private waiters: EventWaiter[] = [];
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;
  private closed = false;

  constructor(child: ChildProcess, init: ControlInit) {
    this.child = child;
    this.dir = init.dir;
    this.rcFile = init.rcFile;
    this.logFile = init.logFile;
    this.sipPort = init.sipPort;
    this.tlsPort = init.tlsPort;
    this.aor = init.aor;
    this.transport = init.transport;
    this.logLimit = init.logLimit;
    child.stdout?.on('data', (d: Buffer) => this.onStdout(d));
    child.stderr?.on('data', (d: Buffer) => this.appendLog(d.toString()));
    // a write after linphonec died must not become an unhandled 'error' (EPIPE)
    child.stdin?.on('error', (e) => this.appendLog(`\n[linphonec stdin: ${e.message}]\n`));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.appendLog(`\n[linphonec exited: code ${code} signal ${signal}]\n`);
        this.failAll(new Error(`linphonec exited (code ${code}, signal ${signal})`));
        resolve();
      });
      child.once('error', (err) => {
        this.exitCode = -1;
        this.appendLog(`\n[linphonec spawn error: ${err.message}]\n`);
        this.failAll(err);
        resolve();
      });
    });
    live.add(this);
  }

  /** The newest stdout/stderr of linphonec (its console; the SIP trace is in `sipLog()`). */
  log(): string {
    return this.logText;
  }

  /** The last `maxBytes` of linphone's own log file (SIP messages, media, errors). */
  sipLog(maxBytes = 64 * 1024): string {
    if (!existsSync(this.logFile)) return '';
    const fd = openSync(this.logFile, 'r');
    try {
      const size = fstatSync(fd).size;
      const len = Math.min(size, maxBytes);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  /** True while linphonec runs. */
  get running(): boolean {
    return this.exitCode === undefined;
  }

  /**
   * `call <uri>` (with `;transport=` added when the URI has none and the phone's transport is not
   * udp). Resolves with linphonec's call number once the INVITE is under way; the call may still
   * fail: `waitEstablished()` says.
   */
  async dial(uri: string, timeoutMs = 5000): Promise<number> {
    const target = this.transport !== 'udp' && !/;transport=/i.test(uri) ? `${uri};transport=${this.transport}` : uri;
    const from = this.events.length;
    this.send(`call ${target}`);
    const e = await this.waitForEvent((x) => x.type === 'outgoing-init' || x.type === 'invite-failed', timeoutMs, from);
    if (e.type === 'invite-failed' || e.id === undefined) throw new Error(`linphone: 'call ${target}' failed\n${this.describe()}`);
    return e.id;
  }

  /**
   * Wait until the call's media runs (`streams-running`: 200 OK, ACK sent, RTP flowing); rejects
   * at once when the call fails or ends instead, with the final SIP response when there was one.
   */
  async waitEstablished(id?: number, timeoutMs = 10_000): Promise<LinphoneEvent> {
    const call = id ?? this.events.findLast((e) => e.type === 'outgoing-init' || e.type === 'incoming')?.id;
    if (call === undefined) throw new Error(`linphone: no call to wait for\n${this.describe()}`);
    const mine = (e: LinphoneEvent): boolean => e.id === call;
    try {
      // from the first event on: the call's whole history counts (its number is never reused)
      return await this.waitForEvent(
        (e) => e.type === 'streams-running' && mine(e),
        timeoutMs,
        0,
        (e) => (e.type === 'error' || e.type === 'ended') && mine(e),
      );
    } catch (err) {
      const failure = this.lastSipFailure();
      const first = ((err as Error).message.split('\n')[0] ?? '')
        .replace(/^linphone: /, '')
        .replace(/^no matching event/, 'no streams-running');
      throw new Error(
        `linphone: call ${call} not established: ${first}${failure ? ` (last SIP failure response: ${failure})` : ''}\n${this.describe()}`,
      );
    }
  }

  /** `terminate [id]` (BYE, or CANCEL before the answer) and wait for the call's `ended`. */
  async hangup(id?: number, timeoutMs = 5000): Promise<LinphoneEvent> {
    const from = this.events.length;
    this.send(id === undefined ? 'terminate' : `terminate ${id}`);
    return this.waitForEvent(
      (e) => e.type === 'ended' && (id === undefined || e.id === id),
      timeoutMs,
      from,
      (e) => e.type === 'no-such-call',
    );
  }

  /** Write one console command (see `help` / `help advanced` in linphonec). */
  send(command: string): void {
    if (!this.running || !this.child.stdin || this.child.stdin.destroyed) throw new Error(`linphone: not running\n${this.tail()}`);
    this.appendLog(`\n[> ${command}]\n`);
    this.child.stdin.write(`${command}\n`);
  }

  /**
   * The first event from `fromIndex` on (default: after the last one a wait returned) that
   * matches; earlier events count, so there is no race with the command that causes them.
   */
  waitForEvent(
    predicate: (e: LinphoneEvent) => boolean,
    timeoutMs = 10_000,
    fromIndex: number = this.cursor,
    failOn?: (e: LinphoneEvent) => boolean,
  ): Promise<LinphoneEvent> {
    for (let i = fromIndex; i < this.events.length; i++) {
      const e = this.events[i]!;
      if (failOn?.(e)) return Promise.reject(new Error(`linphone: ${e.line}\n${this.describe()}`));
      if (predicate(e)) {
        this.cursor = i + 1;
        return Promise.resolve(e);
      }
    }
    if (!this.running) return Promise.reject(new Error(`linphonec is not running\n${this.describe()}`));
    return new Promise((resolve, reject) => {
      const waiter: EventWaiter = {
        predicate,
        failOn,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`linphone: no matching event within ${timeoutMs} ms\n${this.describe()}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Shorthand: the next event of this type. */
  waitForType(type: LinphoneEventType, timeoutMs = 10_000): Promise<LinphoneEvent> {
    return this.waitForEvent((e) => e.type === type, timeoutMs);
  }

  /** The first console line from `fromIndex` on (default: after the last one a line wait returned) that matches. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs = 5000, fromIndex: number = this.lineCursor): Promise<string> {
    for (let i = fromIndex; i < this.lines.length; i++) {
      if (predicate(this.lines[i]!)) {
        this.lineCursor = i + 1;
        return Promise.resolve(this.lines[i]!);
      }
    }
    if (!this.running) return Promise.reject(new Error(`linphonec is not running\n${this.describe()}`));
    return new Promise((resolve, reject) => {
      const waiter: LineWaiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
          reject(new Error(`linphone: no matching output within ${timeoutMs} ms\n${this.describe()}`));
        }, timeoutMs),
      };
      this.lineWaiters.push(waiter);
    });
  }

  /** `quit` (BYE to any call), then SIGTERM / SIGKILL if linphonec has not exited; removes the dir. Idempotent. */
  async close(graceMs = 3000): Promise<void> {
    if (this.closed) return this.exited;
    this.closed = true;
    try {
      for (const sig of ['quit', 'SIGTERM', 'SIGKILL'] as const) {
        if (!this.running) break;
        if (sig === 'quit') {
          if (this.child.stdin && !this.child.stdin.destroyed) this.child.stdin.write('quit\n');
          else continue;
        } else {
          this.child.kill(sig);
        }
        if (sig === 'SIGKILL') {
          await this.exited;
          break;
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.exited, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
      }
    } finally {
      this.child.stdin?.destroy();
      this.failAll(new Error('linphone closed'));
      rmSync(this.dir, { recursive: true, force: true });
      live.delete(this);
    }
  }

  /** Synchronous kill + dir removal for process exit. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** @internal Files instead of a sound card, the clip as microphone, then wait for LinphoneGlobalOn. */
  async init(wav: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const left = (): number => Math.max(1, deadline - Date.now());
    this.send('soundcard use files');
    await this.waitForLine((l) => l === 'Using wav files instead of soundcard.', left());
    // sets the core's play file, which every later call streams (linphone_core_set_play_file)
    this.send(`play ${wav}`);
    this.send('states global');
    const state = await this.waitForLine((l) => /^LinphoneGlobal\w+$/.test(l), left());
    if (state !== 'LinphoneGlobalOn') {
      throw new Error(`linphone: core is ${state}, not LinphoneGlobalOn (no SIP sockets)\n${this.describe()}`);
    }
  }

  /** The last final failure response (>= 300) in the SIP trace, e.g. "488 Not Acceptable Here". */
  lastSipFailure(): string | undefined {
    const all = [...this.sipLog().matchAll(/^SIP\/2\.0 ([3-6]\d\d [^\r\n]*)/gm)];
    return all.at(-1)?.[1];
  }

  private onStdout(d: Buffer): void {
    const text = d.toString();
    this.appendLog(text);
    this.partial += text;
    const parts = this.partial.split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) {
      // the prompt has no newline of its own: it precedes whatever is printed next
      const line = raw
        .replace(ANSI_ESCAPE, '')
        .replace(/\r/g, '')
        .replace(/^(linphonec> )+/, '')
        .trim();
      if (line !== '') this.onLine(line);
    }
  }

  private onLine(line: string): void {
    this.lines.push(line);
    for (const w of this.lineWaiters.filter((x) => x.predicate(line))) {
      this.lineWaiters = this.lineWaiters.filter((x) => x !== w);
      clearTimeout(w.timer);
      this.lineCursor = this.lines.length;
      w.resolve(line);
    }
    const match = EVENT_PATTERNS.map(([type, re, fields]) => [type, line.match(re), fields] as const).find(([, m]) => m !== null);
    if (!match) return;
    const [type, m, fields] = match;
    const f = fields(m!);
    const e: LinphoneEvent = { type, id: f.id, peer: f.peer, reason: f.reason, line };
    this.events.push(e);
    for (const w of [...this.waiters]) {
      const failed = w.failOn?.(e) === true;
      if (!failed && !w.predicate(e)) continue;
      this.waiters = this.waiters.filter((x) => x !== w);
      clearTimeout(w.timer);
      this.cursor = this.events.length;
      if (failed) w.reject(new Error(`linphone: ${line}\n${this.describe()}`));
      else w.resolve(e);
    }
  }

  private failAll(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`${err.message}\n${this.describe()}`));
    }
    for (const w of this.lineWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`${err.message}\n${this.describe()}`));
    }
  }

  private appendLog(d: string): void {
    this.logText += d.replace(ANSI_ESCAPE, '');
    if (this.logText.length > this.logLimit) this.logText = this.logText.slice(-this.logLimit);
  }

  private tail(chars = 4000): string {
    return `--- linphonec console (tail) ---\n${this.logText.slice(-chars)}`;
  }

  /** Events seen, the console tail and the SIP/media log tail, for failure messages. */
  describe(): string {
    const evs = this.events.map((e) => `${e.type}${e.id !== undefined ? ` #${e.id}` : ''}${e.reason ? ` (${e.reason})` : ''}`).join(', ');
    const sip = existsSync(this.logFile) ? this.sipLog(8000) : '(no log file)';
    return `--- linphone events: ${evs || 'none'}\n${this.tail()}\n--- linphone log ${this.logFile} (tail) ---\n${sip}`;
  }
}
