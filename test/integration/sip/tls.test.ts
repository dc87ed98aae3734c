/**
 * SIP over TLS on the SipServer: TLS 1.2+ only, Contact and Via say TLS, the certificate is
 * replaced without a restart (open connections keep working), a trunk that must show a client
 * certificate is refused without one, and requests we send open their own TLS connection.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { selfSignedCertificate, type Pem } from '../../helpers/certificates.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SipStreamFramer } from '../../../appliance/sip/framer.js';
import { SipHeaders } from '../../../appliance/sip/message.js';
import { DEFAULT_SIP_LIMITS, parseSipMessage } from '../../../appliance/sip/parser.js';
import { buildResponse, newBranch, serializeSipMessage } from '../../../appliance/sip/serialize.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { SipServerOptions } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

let dir = '';
let serverA: Pem;
let serverB: Pem;
let ca: Pem;
let client: Pem;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

const selfSigned = (name: string): Pem => selfSignedCertificate(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'evx-sip-tls-'));
  serverA = selfSigned('server-a');
  serverB = selfSigned('server-b');
  ca = selfSigned('trunk-ca');
  openssl([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'client.key',
    '-out',
    'client.csr',
    '-subj',
    '/CN=trunk',
  ]);
  writeFileSync(join(dir, 'ext.cnf'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  openssl([
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'trunk-ca.crt',
    '-CAkey',
    'trunk-ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'client.crt',
  ]);
  client = { cert: readFileSync(join(dir, 'client.crt'), 'utf8'), key: readFileSync(join(dir, 'client.key'), 'utf8') };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function start(opts: Partial<SipServerOptions> = {}, material: () => Pem = () => serverA): Promise<SipServer> {
  const base = 30000 + 2 * Math.floor(Math.random() * 4000);
  const server = new SipServer({
    port: 0,
    tlsPort: 0,
    transports: ['udp', 'tls'],
    rtpPortMin: base,
    rtpPortMax: base + 19,
    tls: { certificate: material },
    ...opts,
  });
  await server.listen();
  open.push(server);
  return server;
}

async function uacOver(server: SipServer, options: tls.ConnectionOptions = {}): Promise<TestUac> {
  const uac = new TestUac(server.tlsPort, 'tls', options);
  open.push(uac);
  return uac.open();
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('SIP over TLS', () => {
  it('answers over TLS 1.2+, with Via and Contact saying TLS, and refuses older TLS', async () => {
    const server = await start();
    const uac = await uacOver(server);
    expect(['TLSv1.2', 'TLSv1.3']).toContain(uac.tlsSocket?.getProtocol());
    uac.sendRaw(uac.request('OPTIONS'));
    const res = await uac.waitResponse('OPTIONS', 200);
    expect(res.headers.get('via')).toMatch(/^SIP\/2\.0\/TLS /);
    const ok = await uac.call(40000);
    expect(ok.headers.get('contact')).toMatch(/;transport=tls>/);
    expect(server.activeCalls).toBe(1);
    const old = new TestUac(server.tlsPort, 'tls', { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    open.push(old);
    await expect(old.open()).rejects.toThrow();
  });

  it('answers a sips: Request-URI with a sips: Contact', async () => {
    const server = await start();
    const uac = await uacOver(server);
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(40002), noToTag: true, uri: `sips:edgevox@127.0.0.1:${server.tlsPort}` }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    expect(ok.headers.get('contact')).toMatch(/^<sips:edgevox@127\.0\.0\.1:\d+>$/);
  });

  it('takes a new certificate without a restart: new connections get it, open ones keep working', async () => {
    let material = serverA;
    const server = await start({}, () => material);
    const before = await uacOver(server);
    expect(before.tlsSocket?.getPeerX509Certificate()?.fingerprint256).toBe(fingerprint(serverA.cert));
    material = serverB;
    server.reloadTls();
    const after = await uacOver(server);
    expect(after.tlsSocket?.getPeerX509Certificate()?.fingerprint256).toBe(fingerprint(serverB.cert));
    before.sendRaw(before.request('OPTIONS'));
    await before.waitResponse('OPTIONS', 200);
  });

  it('refuses a trunk that must show a client certificate when it shows none, and admits it with one', async () => {
    const server = await start({
      tls: { certificate: () => serverA, clientCas: () => ca.cert, requireClientCert: (a) => a === '127.0.0.1' },
    });
    const bare = new TestUac(server.tlsPort, 'tls');
    open.push(bare);
    // the handshake itself succeeds (the certificate is optional at the TLS layer); the connection is then closed
    await bare.open().catch(() => undefined);
    bare.sendRaw(bare.request('OPTIONS'));
    await expect(bare.waitFor((m) => m.kind === 'response', 1000)).rejects.toThrow();
    expect(server.counters.rejectedTls).toBeGreaterThanOrEqual(1);
    const signed = await uacOver(server, { cert: client.cert, key: client.key });
    signed.sendRaw(signed.request('OPTIONS'));
    await signed.waitResponse('OPTIONS', 200);
  }, 10_000);

  it('opens its own TLS connection for a request it sends, checking the peer with the CA it was given', async () => {
    const got: string[] = [];
    const provider = tls.createServer({ cert: serverB.cert, key: serverB.key }, (sock) => {
      const framer = new SipStreamFramer(DEFAULT_SIP_LIMITS);
      sock.on('data', (d: Buffer) => {
        for (const f of framer.push(d)) {
          if (f.type !== 'message') continue;
          const r = parseSipMessage(f.bytes, DEFAULT_SIP_LIMITS, false);
          if (!r.ok || r.message.kind !== 'request') continue;
          got.push(r.message.method);
          sock.write(serializeSipMessage(buildResponse(r.message, 200, { toTag: 'p1' })));
        }
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', () => r()));
    open.push({ close: () => new Promise<void>((r) => provider.close(() => r())) });
    const providerPort = (provider.address() as { port: number }).port;
    const server = await start({
      tls: {
        certificate: () => serverA,
        client: () => ({ ca: serverB.cert, servername: 'server-b', checkServerIdentity: () => undefined }),
      },
    });
    const peer = { transport: 'tls' as const, address: '127.0.0.1', port: providerPort };
    const local = server.localEndpoint(peer);
    const h = new SipHeaders();
    h.set('via', `SIP/2.0/TLS ${local.host}:${local.port};branch=${newBranch()};rport`);
    h.set('max-forwards', '70');
    h.set('from', `<sip:edgevox@${local.host}>;tag=t1`);
    h.set('to', `<sip:trunk@127.0.0.1:${providerPort}>`);
    h.set('call-id', 'tls-options-1');
    h.set('cseq', '1 OPTIONS');
    const res = await server.request(
      { kind: 'request', method: 'OPTIONS', uri: `sip:127.0.0.1:${providerPort};transport=tls`, headers: h, body: Buffer.alloc(0) },
      peer,
    );
    expect(res.status).toBe(200);
    expect(got).toEqual(['OPTIONS']);
    // a provider whose certificate the CA does not vouch for gets nothing
    const strict = await start({ tls: { certificate: () => serverA, client: () => ({ ca: ca.cert }) } });
    h.set('via', `SIP/2.0/TLS ${local.host}:${local.port};branch=${newBranch()};rport`);
    h.set('call-id', 'tls-options-2');
    await expect(
      strict.request(
        { kind: 'request', method: 'OPTIONS', uri: `sip:127.0.0.1:${providerPort};transport=tls`, headers: h, body: Buffer.alloc(0) },
        peer,
      ),
    ).rejects.toThrow();
    expect(got).toEqual(['OPTIONS']);
  }, 60_000);
});
