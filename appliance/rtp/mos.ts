/**
 * ITU-T G.107 E-model, reduced to what a media endpoint can measure: one-way delay (Id),
 * codec impairment with random packet loss (Ie-eff, with Ie/Bpl from G.113 Appendix I),
 * default values for everything else (R0 - Is = 93.2). MOS from R per G.107 Annex B.
 */

export interface CodecImpairment {
  /** Equipment impairment factor Ie. */
  readonly ie: number;
  /** Packet-loss robustness factor Bpl. */
  readonly bpl: number;
}

/** G.113 Appendix I values (G.711 with PLC per G.711 Appendix I). G.722 uses the same narrowband-equivalent figures. */
export const CODEC_IMPAIRMENT: Readonly<Record<'PCMU' | 'PCMA' | 'G722', CodecImpairment>> = {
  PCMU: { ie: 0, bpl: 25.1 },
  PCMA: { ie: 0, bpl: 25.1 },
  G722: { ie: 0, bpl: 25.1 },
};

/** Delay impairment Id for a one-way mouth-to-ear delay in ms (G.107 simplified form). */
export function delayImpairment(oneWayDelayMs: number): number {
  const d = Math.max(0, oneWayDelayMs);
  return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
}

/** Effective equipment impairment with packet loss probability `lossPct` (0..100), BurstR = 1 (random loss). */
export function effectiveIe(codec: CodecImpairment, lossPct: number, burstR = 1): number {
  const ppl = Math.min(100, Math.max(0, lossPct));
  return codec.ie + (95 - codec.ie) * (ppl / (ppl / burstR + codec.bpl));
}

/** Transmission rating factor R. */
export function rFactor(oneWayDelayMs: number, lossPct: number, codec: CodecImpairment): number {
  return 93.2 - delayImpairment(oneWayDelayMs) - effectiveIe(codec, lossPct);
}

/** MOS-CQE from R (G.107 Annex B): 1 for R <= 0, 4.5 for R >= 100. */
export function mosFromR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/**
 * MOS estimate for a received stream. Delay = network one-way (RTT/2, or 0 when unknown)
 * + jitter buffer hold + packetisation.
 */
export function estimateMos(p: {
  codec: 'PCMU' | 'PCMA' | 'G722';
  lossPct: number;
  jitterMs: number;
  rttMs?: number | undefined;
  frameMs?: number;
}): number {
  const frame = p.frameMs ?? 20;
  const delay = (p.rttMs ?? 0) / 2 + 2 * p.jitterMs + frame;
  return Math.round(mosFromR(rFactor(delay, p.lossPct, CODEC_IMPAIRMENT[p.codec])) * 100) / 100;
}
