/** Test certificates made by Debian's openssl (the appliance itself makes its own the same way). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pem {
  cert: string;
  key: string;
}

/** A self-signed P-256 certificate for two days, CN `name`, written as `<dir>/<name>.crt` and `.key`. */
export function selfSignedCertificate(dir: string, name: string, dnsNames: readonly string[] = []): Pem {
  const san = dnsNames.length > 0 ? ['-addext', `subjectAltName=${dnsNames.map((d) => `DNS:${d}`).join(',')}`] : [];
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`, ...san].concat(
      ['-keyout', `${name}.key`, '-out', `${name}.crt`],
    ),
    { cwd: dir, stdio: 'ignore' },
  );
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

/**
 * A self-signed P-256 certificate that expired a day ago (signed with `-days -1`: its notAfter is a day
 * before now), CN `name`, written as `<dir>/<name>.crt` and `.key`.
 */
export function expiredCertificate(dir: string, name: string, dnsNames: readonly string[] = []): Pem {
  const san = dnsNames.length > 0 ? ['-addext', `subjectAltName=${dnsNames.map((d) => `DNS:${d}`).join(',')}`] : [];
  execFileSync(
    'openssl',
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, ...san].concat([
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    ]),
    { cwd: dir, stdio: 'ignore' },
  );
  execFileSync('openssl', ['x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-days', '-1', '-out', `${name}.crt`], {
    cwd: dir,
    stdio: 'ignore',
  });
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}
