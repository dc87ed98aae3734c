/**
 * Drive baresip 1.0 (Debian `baresip-core`) as a real SIP phone in end-to-end tests.
 *
 * `startBaresip()` writes a throw-away config dir (`baresip -f <dir>`: `config` + `accounts`) with
 * no audio device: the audio source is a WAV file (`aufile`, which must be mono S16LE at the rate
 * baresip samples at; `ausrc_srate 8000` makes that 8 kHz for every codec, G.722 included), there
 * is no audio player at all (1.0's `aufile` is a source only), and what the phone hears can be
 * dumped with the `sndfile` filter. Control is the `ctrl_tcp` module (netstring-framed JSON) on a
 * free loopback port, wrapped by `BaresipControl`. SIP listens on 127.0.0.1:<sipPort> for UDP and
 * TCP, and baresip 1.0 always adds TLS on <sipPort + 1> (src/ua.c), so both ports must be free.
 *
 * Facts about 1.0 this relies on (read from baresip v1.0.0 / libre v1.1.0):
 *  - `ua_connect()` appends the account URI's parameters to every dialled URI, so the account's
 *    `;transport=tcp|tls` makes `dial sip:x@h:p` go out as `sip:x@h:p;transport=tls`. libre 1.1
 *    picks the transport from `;transport=` only: a bare `sips:` URI is not treated as TLS.
 *  - `;audio_codecs=` entries are `name/srate/channels` matched on the codec's *sample* rate:
 *    G.722 is `G722/16000/1` (a bare `G722` means 8000 Hz and is not found).
 *  - When the WAV ends, `aufile` reports "end of file" and baresip hangs the call up itself
 *    (CALL_CLOSED param "end of file", BYE sent): make the clip longer than the call.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, haveTool, tcpPortFree } from '../e2e/sip/harness.js';

export const BARESIP_BIN = '/usr/bin/baresip';
export const BARESIP_MODULES = '/usr/lib/baresip/modules';

/** True when baresip (and sox, for the clip) can run here. */
export function haveBaresip(): boolean {
  return existsSync(BARESIP_BIN) && existsSync(path.join(BARESIP_MODULES, 'ctrl_tcp.so')) && haveTool('sox');
}

export type BaresipTransport = 'udp' | 'tcp' | 'tls';
export type BaresipCodec = 'PCMU' | 'PCMA' | 'G722';
/** `srtp`: SDES on RTP/AVP (best effort); `srtp-mand`: RTP/SAVP; `srtp-mandf`: RTP/SAVPF. */
export type BaresipMediaEnc = 'none' | 'srtp' | 'srtp-mand' | 'srtp-mandf';

/** The `;audio_codecs=` spelling of each codec (name/sample rate/channels, as aucodec_find() matches). */
const CODEC_PARAM: Record<BaresipCodec, string> = { PCMU: 'PCMU/8000/1', PCMA: 'PCMA/8000/1', G722: 'G722/16000/1' };

export interface BaresipOptions {
  /** Mono 16-bit WAV at 8 kHz played as the microphone (see `makeBaresipWav`). */
  readonly wav: string;
  /** Sets `;transport=` on the account URI, which baresip appends to every URI it dials (default udp). */
  readonly transport?: BaresipTransport;
  /** Offered codecs in order (default PCMU, PCMA, G722). */
  readonly codecs?: readonly BaresipCodec[];
  readonly mediaEnc?: BaresipMediaEnc;
  /**
   * `sip_certificate`: ONE PEM file holding the certificate chain AND its private key. Sent as the
   * client certificate on TLS calls baresip makes; it is also its server certificate, without
   * which TLS connections *to* baresip (tlsPort) fail the handshake.
   */
  readonly tlsCertificate?: string;
  /**
   * `sip_cafile`: loaded into the TLS context, but baresip 1.0 + libre 1.1 never verify the SIP
   * server's certificate (no SSL_VERIFY_PEER on the client side, no `sip_verify_server` key).
   */
  readonly tlsCaFile?: string;
  /** What baresip does with calls it receives (default auto: answers at once). */
  readonly answerMode?: 'manual' | 'early' | 'auto';
  /** User part of the account AOR (default `baresip`). */
  readonly user?: string;
  /**
   * `host:port` of a registrar: it becomes the AOR's domain (`sip:<user>@<registrar>`), since
   * baresip 1.0 registers with the AOR's host and port (src/ua.c `ua_register`). Default 127.0.0.1.
   */
  readonly registrar?: string;
  /** `auth_pass`: the digest password (the digest user is the AOR user); no spaces or `;` (baresip 1.0 cuts the parameter there). */
  readonly password?: string;
  /** `regint`: registration interval in seconds (default 0: no REGISTER at all). */
  readonly regint?: number;
  /** Load `sndfile`: what the phone sends/receives lands in `dir` as dump-<time>-enc.wav / -dec.wav. */
  readonly record?: boolean;
  /** `-s`: SIP messages go to the log (default true; they explain most failures). */
  readonly sipTrace?: boolean;
  /** Extra `config` lines and account parameters (`;name=value`, without the leading `;`). */
  readonly extraConfig?: readonly string[];
  readonly extraAccountParams?: readonly string[];
  /** RTP port range (default 20000-29999, away from the 40000+ ranges our SipServer tests use). */
  readonly rtpPorts?: readonly [number, number];
  readonly startTimeoutMs?: number;
  /** Bytes of stdout/stderr kept for failure messages (default 256 KiB, newest kept). */
  readonly logLimit?: number;
}

/** One event from ctrl_tcp (src/event.c `event_encode_dict`). */
export interface BaresipEvent {
  readonly event: true;
  /** `call`, `register`, `application`, `VU_REPORT`, `other`. */
  readonly class: string;
  /** CALL_LOCAL_SDP, CALL_REMOTE_SDP, CALL_RINGING, CALL_PROGRESS, CALL_ESTABLISHED, CALL_RTPESTAB, CALL_MENC, CALL_CLOSED, TRANSFER, TRANSFER_FAILED, … */
  readonly type: string;
  readonly param?: string;
  readonly accountaor?: string;
  readonly direction?: 'incoming' | 'outgoing';
  readonly peeruri?: string;
  readonly peerdisplayname?: string;
  /** The SIP Call-ID. */
  readonly id?: string;
  readonly [key: string]: unknown;
}

export interface BaresipResponse {
  readonly ok: boolean;
  readonly data: string;
}

/** Make the microphone clip: mono, 8 kHz, signed 16-bit WAV, optionally padded with silence. */
export function makeBaresipWav(src: string, out: string, padSeconds = 0): string {
  const effects = padSeconds > 0 ? ['pad', '0', String(padSeconds)] : [];
  execFileSync('sox', [src, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'wav', out, ...effects], {
    stdio: 'ignore',
  });
  return out;
}

/** A loopback port free for UDP+TCP whose successor is free for TCP (baresip's TLS listener). */
async function freeSipPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65535 && (await tcpPortFree(p + 1))) return p;
  }
  throw new Error('no free port pair for baresip');
}

const live = new Set<BaresipControl>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a worker dies without running afterEach/afterAll: no orphaned phones or dirs.
  process.once('exit', () => {
    for (const b of live) b.killNow();
  });
}

/** Start baresip and connect to its ctrl_tcp port. Always `await control.close()` (afterEach). */
export async function startBaresip(opts: BaresipOptions): Promise<BaresipControl> {
  if (!existsSync(opts.wav)) throw new Error(`baresip: no WAV at ${opts.wav}`);
  const sipPort = await freeSipPort();
  const ctrlPort = await freePort();
  const user = opts.user ?? 'baresip';
  const transport = opts.transport ?? 'udp';
  const codecs = opts.codecs ?? ['PCMU', 'PCMA', 'G722'];
  const [rtpMin, rtpMax] = opts.rtpPorts ?? [20000, 29999];
  const mediaEnc = opts.mediaEnc ?? 'none';

  const modules = ['g711.so', 'g722.so', 'aufile.so'];
  if (opts.record) modules.push('sndfile.so');
  if (mediaEnc !== 'none') modules.push('srtp.so');
  const config = [
    'poll_method\t\tepoll',
    `sip_listen\t\t127.0.0.1:${sipPort}`,
    ...(opts.tlsCertificate ? [`sip_certificate\t\t${opts.tlsCertificate}`] : []),
    ...(opts.tlsCaFile ? [`sip_cafile\t\t${opts.tlsCaFile}`] : []),
    'call_local_timeout\t30',
    'call_max_calls\t\t4',
    // no player module is loaded at all: received audio is decoded (and seen by sndfile) but not played
    `audio_source\t\taufile,${opts.wav}`,
    'ausrc_srate\t\t8000',
    'ausrc_channels\t\t1',
    'audio_buffer\t\t20-160',
    'audio_level\t\tno',
    'ausrc_format\t\ts16',
    'auplay_format\t\ts16',
    'auenc_format\t\ts16',
    'audec_format\t\ts16',
    'rtp_tos\t\t\t0',
    `rtp_ports\t\t${rtpMin}-${rtpMax}`,
    'rtcp_mux\t\tno',
    'jitter_buffer_delay\t1-10',
    'rtp_stats\t\tno',
    'dns_server\t\t127.0.0.1:53',
    // an IP here is taken as is (an interface name must not be loopback): SDP c= and RTP use 127.0.0.1
    'net_interface\t\t127.0.0.1',
    `module_path\t\t${BARESIP_MODULES}`,
    ...modules.map((m) => `module\t\t\t${m}`),
    'module_tmp\t\taccount.so',
    'module_app\t\tmenu.so',
    'module_app\t\tctrl_tcp.so',
    `ctrl_tcp_listen\t\t127.0.0.1:${ctrlPort}`,
    'ringback_disabled\tyes',
    'menu_bell\t\tno',
    'statmode_default\toff',
    'snd_path\t\t@SND_PATH@',
    ...(opts.extraConfig ?? []),
    '',
  ].join('\n');
  const uriParams = transport === 'udp' ? '' : `;transport=${transport}`;
  const accountParams = [
    `regint=${opts.regint ?? 0}`,
    ...(opts.password !== undefined ? [`auth_pass=${opts.password}`] : []),
    `answermode=${opts.answerMode ?? 'auto'}`,
    `audio_codecs=${codecs.map((c) => CODEC_PARAM[c]).join(',')}`,
    'ptime=20',
    ...(mediaEnc !== 'none' ? [`mediaenc=${mediaEnc}`] : []),
    ...(opts.extraAccountParams ?? []),
  ];
  const aor = `sip:${user}@${opts.registrar ?? '127.0.0.1'}`;
  const account = `<${aor}${uriParams}>;${accountParams.join(';')}\n`;
  const dir = mkdtempSync(path.join(tmpdir(), 'evx-baresip-'));
  let child: ChildProcess;
  try {
    writeFileSync(path.join(dir, 'config'), config.replace('@SND_PATH@', dir));
    writeFileSync(path.join(dir, 'accounts'), account);
    writeFileSync(path.join(dir, 'contacts'), '');
    child = spawnBaresip(dir, opts.sipTrace !== false);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const control = new BaresipControl(child, { dir, sipPort, tlsPort: sipPort + 1, ctrlPort, aor, logLimit: opts.logLimit ?? 256 * 1024 });
  installExitHook();
  try {
    await control.connect(opts.startTimeoutMs ?? 10_000);
  } catch (e) {
    await control.close();
    throw e;
  }
  return control;
}

function spawnBaresip(dir: string, sipTrace: boolean): ChildProcess {
  const args = ['-f', dir, ...(sipTrace ? ['-s'] : [])];
  // baresip writes its log with stdio and never flushes: line-buffer it so the log is live.
  const useStdbuf = haveTool('stdbuf');
  return spawn(useStdbuf ? 'stdbuf' : BARESIP_BIN, useStdbuf ? ['-oL', '-eL', BARESIP_BIN, ...args] : args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface ControlInit {
  readonly dir: string;
  readonly sipPort: number;
  readonly tlsPort: number;
  readonly ctrlPort: number;
  readonly aor: string;
  readonly logLimit: number;
}

interface Waiter {
  readonly predicate: (e: BaresipEvent) => boolean;
  readonly resolve: (e: BaresipEvent) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The running phone: its ports, its log, and the ctrl_tcp commands of the `menu` module
 * (`dial`, `hangup`, `hold`, `resume`, `transfer`, `accept`) plus core `quit`.
 */
export class BaresipControl {
  readonly dir: string;
  /** UDP and TCP listen here. */
  readonly sipPort: number;
  /** baresip 1.0 always listens for TLS on sipPort + 1. */
  readonly tlsPort: number;
  readonly ctrlPort: number;
  /** The account's address of record (no parameters). */
  readonly aor: string;
  /** Every event received so far, in order. */
  readonly events: BaresipEvent[] = [];
  private readonly child: ChildProcess;
  private readonly logLimit: number;
  private logText = '';
  private socket: net.Socket | undefined;
  private rx: Buffer = Buffer.alloc(0);
  private cursor = 0;
  private nextToken = 1;
  private readonly pending = new Map<string, { resolve: (r: BaresipResponse) => void; reject: (e: Error) => void }>();
  private waiters: Waiter[] = [];
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;
  private closed = false;

  constructor(child: ChildProcess, init: ControlInit) {
    this.child = child;
    this.dir = init.dir;
    this.sipPort = init.sipPort;
    this.tlsPort = init.tlsPort;
    this.ctrlPort = init.ctrlPort;
    this.aor = init.aor;
    this.logLimit = init.logLimit;
    child.stdout?.on('data', (d: Buffer) => this.appendLog(d));
    child.stderr?.on('data', (d: Buffer) => this.appendLog(d));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.appendLog(`\n[baresip exited: code ${code} signal ${signal}]\n`);
        this.failAll(new Error(`baresip exited (code ${code}, signal ${signal})`));
        resolve();
      });
      child.once('error', (err) => {
        this.exitCode = -1;
        this.appendLog(`\n[baresip spawn error: ${err.message}]\n`);
        this.failAll(err);
        resolve();
      });
    });
    live.add(this);
  }

  /** The newest stdout/stderr of baresip (colour codes stripped). */
  log(): string {
    return this.logText;
  }

  /** True while the baresip process runs. */
  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** WAV files the `sndfile` filter wrote (option `record`): `-dec` is what the phone heard. */
  recordings(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => /^dump-.*\.wav$/.test(f))
      .sort()
      .map((f) => path.join(this.dir, f));
  }

  /** Dial a SIP URI (the account's `;transport=` is appended by baresip). */
  async dial(uri: string): Promise<BaresipResponse> {
    return this.command('dial', uri);
  }

  /** Answer an incoming call (answerMode manual). */
  async accept(): Promise<BaresipResponse> {
    return this.command('accept');
  }

  /** BYE (or CANCEL) the current call. */
  async hangup(): Promise<BaresipResponse> {
    return this.command('hangup');
  }

  /** re-INVITE with `a=sendonly` (baresip stops sending RTP while held). */
  async hold(): Promise<BaresipResponse> {
    return this.command('hold');
  }

  /** re-INVITE with `a=sendrecv`. */
  async resume(): Promise<BaresipResponse> {
    return this.command('resume');
  }

  /** Blind transfer: REFER with `Refer-To: <uri>` on the current call. */
  async transfer(uri: string): Promise<BaresipResponse> {
    return this.command('transfer', uri);
  }

  /** Send any long command; rejects when baresip answers `ok: false` unless `allowError`. */
  async command(command: string, params?: string, opts: { allowError?: boolean; timeoutMs?: number } = {}): Promise<BaresipResponse> {
    const sock = this.socket;
    if (!sock || sock.destroyed) throw new Error(`baresip: control not connected\n${this.tail()}`);
    const token = String(this.nextToken++);
    const payload = Buffer.from(JSON.stringify(params === undefined ? { command, token } : { command, params, token }), 'utf8');
    const response = new Promise<BaresipResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip: no response to '${command}' within ${opts.timeoutMs ?? 5000} ms\n${this.tail()}`));
      }, opts.timeoutMs ?? 5000);
      this.pending.set(token, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    sock.write(Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(',')]));
    const r = await response;
    if (!r.ok && !opts.allowError) throw new Error(`baresip: '${command}${params ? ` ${params}` : ''}' failed: ${r.data}\n${this.tail()}`);
    return r;
  }

  /**
   * The next event (after the last one a waitForEvent returned) that matches; events that arrived
   * before the call count too, so there is no race with the command that causes them.
   */
  waitForEvent(predicate: (e: BaresipEvent) => boolean, timeoutMs = 10_000): Promise<BaresipEvent> {
    for (let i = this.cursor; i < this.events.length; i++) {
      const e = this.events[i]!;
      if (predicate(e)) {
        this.cursor = i + 1;
        return Promise.resolve(e);
      }
    }
    if (!this.running) return Promise.reject(new Error(`baresip is not running\n${this.describe()}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`baresip: no matching event within ${timeoutMs} ms\n${this.describe()}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Shorthand: wait for an event of this type (e.g. CALL_ESTABLISHED, CALL_CLOSED). */
  waitForType(type: string, timeoutMs = 10_000): Promise<BaresipEvent> {
    return this.waitForEvent((e) => e.type === type, timeoutMs);
  }

  /** `quit`, then SIGKILL if baresip has not exited after `graceMs`; removes the config dir. Idempotent. */
  async close(graceMs = 3000): Promise<void> {
    if (this.closed) return this.exited;
    this.closed = true;
    try {
      if (this.running && this.socket && !this.socket.destroyed) {
        const sock = this.socket;
        const payload = Buffer.from(JSON.stringify({ command: 'quit', token: 'quit' }));
        sock.write(Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(',')]));
      } else if (this.running) {
        this.child.kill('SIGTERM');
      }
      if (this.running) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.exited, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
      }
      if (this.running) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    } finally {
      this.socket?.destroy();
      this.failAll(new Error('baresip closed'));
      rmSync(this.dir, { recursive: true, force: true });
      live.delete(this);
    }
  }

  /** Synchronous kill + dir removal for process exit. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
    this.socket?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** @internal Connect to ctrl_tcp, retrying until baresip listens. */
  async connect(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`baresip exited during start-up\n${this.tail()}`);
      try {
        this.socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port: this.ctrlPort });
          s.once('connect', () => {
            s.off('error', reject);
            resolve(s);
          });
          s.once('error', reject);
        });
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`baresip: ctrl_tcp did not listen within ${timeoutMs} ms\n${this.tail()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const sock = this.socket;
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e) => this.appendLog(`\n[ctrl_tcp socket error: ${e.message}]\n`));
    sock.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error(`baresip: control connection closed\n${this.tail()}`));
      this.pending.clear();
    });
    // a command round-trip proves the menu module (which owns the call commands) is loaded
    await this.command('about');
  }

  private onData(d: Buffer): void {
    this.rx = this.rx.length ? Buffer.concat([this.rx, d]) : d;
    for (;;) {
      const colon = this.rx.indexOf(0x3a);
      if (colon < 0) {
        if (this.rx.length > 12) this.protocolError('no netstring length');
        return;
      }
      const lenText = this.rx.subarray(0, colon).toString('latin1');
      if (!/^\d{1,9}$/.test(lenText)) return this.protocolError(`bad netstring length '${lenText}'`);
      const len = Number(lenText);
      const end = colon + 1 + len;
      if (this.rx.length < end + 1) return;
      if (this.rx[end] !== 0x2c) return this.protocolError('netstring without trailing comma');
      const body = this.rx.subarray(colon + 1, end).toString('utf8');
      this.rx = this.rx.subarray(end + 1);
      if (len > 0) this.onMessage(body);
    }
  }

  private protocolError(what: string): void {
    this.appendLog(`\n[ctrl_tcp: ${what}; dropping ${this.rx.length} bytes]\n`);
    this.rx = Buffer.alloc(0);
  }

  private onMessage(body: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(body) as Record<string, unknown>;
    } catch {
      this.appendLog(`\n[ctrl_tcp: not JSON: ${body.slice(0, 200)}]\n`);
      return;
    }
    if (msg['response'] === true) {
      const token = typeof msg['token'] === 'string' ? msg['token'] : '';
      const p = this.pending.get(token);
      if (p) {
        this.pending.delete(token);
        p.resolve({ ok: msg['ok'] === true, data: typeof msg['data'] === 'string' ? msg['data'] : '' });
      }
      return;
    }
    if (msg['event'] === true) {
      const e = msg as unknown as BaresipEvent;
      this.events.push(e);
      const w = this.waiters.find((x) => x.predicate(e));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        clearTimeout(w.timer);
        this.cursor = this.events.length;
        w.resolve(e);
      }
    }
  }

  private failAll(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`${err.message}\n${this.describe()}`));
    }
    for (const p of this.pending.values()) p.reject(new Error(`${err.message}\n${this.tail()}`));
    this.pending.clear();
  }

  private appendLog(d: Buffer | string): void {
    // eslint-disable-next-line no-control-regex
    this.logText += d.toString().replace(/\x1b\[[0-9;]*m/g, '');
    if (this.logText.length > this.logLimit) this.logText = this.logText.slice(-this.logLimit);
  }

  private tail(chars = 6000): string {
    return `--- baresip log (tail) ---\n${this.logText.slice(-chars)}`;
  }

  /** Events seen and the log tail, for failure messages. */
  describe(): string {
    const evs = this.events.map((e) => `${e.type}${e.param ? ` (${e.param})` : ''}`).join(', ');
    return `--- baresip events: ${evs || 'none'}\n${this.tail()}`;
  }
}
