/**
 * The SRTP crypto suites SDES can name (RFC 4568 §6.2, RFC 7714 §14.2) that the appliance
 * implements, with the key, salt and tag sizes both the SDP layer and the SRTP layer need.
 */
export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AEAD_AES_128_GCM' | 'AEAD_AES_256_GCM';

export interface SrtpSuiteSpec {
  readonly masterKeyBytes: number;
  readonly masterSaltBytes: number;
  /** Authentication tag appended to SRTP packets. */
  readonly rtpTagBytes: number;
  /** Authentication tag appended to SRTCP packets. */
  readonly rtcpTagBytes: number;
  /** AES-GCM (RFC 7714): the tag is the GCM tag and there is no HMAC key. */
  readonly aead: boolean;
}

export const SRTP_SUITES: Readonly<Record<SrtpSuite, SrtpSuiteSpec>> = Object.freeze({
  AES_CM_128_HMAC_SHA1_80: Object.freeze({ masterKeyBytes: 16, masterSaltBytes: 14, rtpTagBytes: 10, rtcpTagBytes: 10, aead: false }),
  AES_CM_128_HMAC_SHA1_32: Object.freeze({ masterKeyBytes: 16, masterSaltBytes: 14, rtpTagBytes: 4, rtcpTagBytes: 10, aead: false }),
  AEAD_AES_128_GCM: Object.freeze({ masterKeyBytes: 16, masterSaltBytes: 12, rtpTagBytes: 16, rtcpTagBytes: 16, aead: true }),
  AEAD_AES_256_GCM: Object.freeze({ masterKeyBytes: 32, masterSaltBytes: 12, rtpTagBytes: 16, rtcpTagBytes: 16, aead: true }),
});

export function isSrtpSuite(name: string): name is SrtpSuite {
  return Object.prototype.hasOwnProperty.call(SRTP_SUITES, name);
}
