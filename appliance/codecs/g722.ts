/**
 * ITU-T G.722 (7 kHz audio coding within 64 kbit/s): sub-band ADPCM, mode 1 (64 kbit/s:
 * 6 bits lower band, 2 bits higher band per 16 kHz sample pair), written from the
 * Recommendation's block descriptions (QMF, BLOCK 1L-4L, 1H-4H). 16 kHz PCM <-> one byte per
 * two samples. Encoder and decoder keep their state between calls; nothing is allocated per call.
 */

// Transmit/receive QMF coefficients h0..h23 are symmetric; we keep the 12 even-index taps.
// h(2i) for i = 0..11, and h(2i+1) = h(22 - 2i) (the odd-index taps are the even ones reversed).
const QMF_EVEN = Int32Array.of(3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11);

// BLOCK 1L: quantizer decision levels (Table 6/G.722, scaled by 2^-? as Q12 multipliers of DETL).
const Q6 = Int32Array.of(
  0,
  35,
  72,
  110,
  150,
  190,
  233,
  276,
  323,
  370,
  422,
  473,
  530,
  587,
  650,
  714,
  786,
  858,
  940,
  1023,
  1121,
  1219,
  1339,
  1458,
  1612,
  1765,
  1980,
  2195,
  2557,
  2919,
);
// codes for negative / positive intervals (IL6 output)
const ILN = Int32Array.of(
  0,
  63,
  62,
  31,
  30,
  29,
  28,
  27,
  26,
  25,
  24,
  23,
  22,
  21,
  20,
  19,
  18,
  17,
  16,
  15,
  14,
  13,
  12,
  11,
  10,
  9,
  8,
  7,
  6,
  5,
  4,
  0,
);
const ILP = Int32Array.of(
  0,
  61,
  60,
  59,
  58,
  57,
  56,
  55,
  54,
  53,
  52,
  51,
  50,
  49,
  48,
  47,
  46,
  45,
  44,
  43,
  42,
  41,
  40,
  39,
  38,
  37,
  36,
  35,
  34,
  33,
  32,
  0,
);
// BLOCK 2L/5L: inverse quantizer outputs (QQ4 for adaptation, QQ6 for 64 kbit/s reconstruction)
const QM4 = Int32Array.of(0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0);
const QM6 = Int32Array.of(
  -136,
  -136,
  -136,
  -136,
  -24808,
  -21904,
  -19008,
  -16704,
  -14984,
  -13512,
  -12280,
  -11192,
  -10232,
  -9360,
  -8576,
  -7856,
  -7192,
  -6576,
  -6000,
  -5456,
  -4944,
  -4464,
  -4008,
  -3576,
  -3168,
  -2776,
  -2400,
  -2032,
  -1688,
  -1360,
  -1040,
  -728,
  24808,
  21904,
  19008,
  16704,
  14984,
  13512,
  12280,
  11192,
  10232,
  9360,
  8576,
  7856,
  7192,
  6576,
  6000,
  5456,
  4944,
  4464,
  4008,
  3576,
  3168,
  2776,
  2400,
  2032,
  1688,
  1360,
  1040,
  728,
  432,
  136,
  -432,
  -136,
);
// BLOCK 3L: log scale factor adaptation (RIL -> IL4 -> WL)
const RL42 = Int32Array.of(0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0);
const WL = Int32Array.of(-60, -30, 58, 172, 334, 538, 1198, 3042);
// inverse log table (ILB), shared by both bands
const ILB = Int32Array.of(
  2048,
  2093,
  2139,
  2186,
  2233,
  2282,
  2332,
  2383,
  2435,
  2489,
  2543,
  2599,
  2656,
  2714,
  2774,
  2834,
  2896,
  2960,
  3025,
  3091,
  3158,
  3228,
  3298,
  3371,
  3444,
  3520,
  3597,
  3676,
  3756,
  3838,
  3922,
  4008,
);
// higher band (BLOCK 1H-3H)
const QM2 = Int32Array.of(-7408, -1616, 7408, 1616);
const IHN = Int32Array.of(0, 1, 0);
const IHP = Int32Array.of(0, 3, 2);
const WH = Int32Array.of(0, -214, 798);
const RH2 = Int32Array.of(2, 1, 2, 1);

function sat16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** Adaptive predictor state of one sub-band (BLOCK 4: pole/zero predictor, RECONS, PARREC). */
class Band {
  s = 0; // predicted signal
  sp = 0;
  sz = 0;
  readonly r = new Int32Array(3); // reconstructed signal history
  readonly a = new Int32Array(3); // pole coefficients a1, a2 (Q14)
  readonly ap = new Int32Array(3);
  readonly p = new Int32Array(3); // partial reconstruction history
  readonly d = new Int32Array(7); // quantized difference history
  readonly b = new Int32Array(7); // zero coefficients b1..b6 (Q14)
  readonly bp = new Int32Array(7);
  nb = 0; // log scale factor
  det: number;

  constructor(det: number) {
    this.det = det;
  }

  /** BLOCK 4: update predictors with quantized difference `dq`, then predict the next sample. */
  adapt(dq: number): void {
    const d = this.d;
    const p = this.p;
    const a = this.a;
    d[0] = dq;
    this.r[0] = sat16(this.s + dq); // RECONS
    p[0] = sat16(this.sz + dq); // PARREC

    // UPPOL2: a2 update
    const sg0 = p[0] >> 15;
    const sg1 = p[1]! >> 15;
    const sg2 = p[2]! >> 15;
    let wd1 = sat16(a[1]! << 2);
    let wd2 = sg0 === sg1 ? -wd1 : wd1;
    if (wd2 > 32767) wd2 = 32767;
    let wd3 = (wd2 >> 7) + (sg0 === sg2 ? 128 : -128);
    wd3 += (a[2]! * 32512) >> 15;
    this.ap[2] = wd3 > 12288 ? 12288 : wd3 < -12288 ? -12288 : wd3;

    // UPPOL1: a1 update, limited by 1 - 2^-4 - a2
    wd1 = sg0 === sg1 ? 192 : -192;
    wd2 = (a[1]! * 32640) >> 15;
    let ap1 = sat16(wd1 + wd2);
    const lim = sat16(15360 - this.ap[2]);
    if (ap1 > lim) ap1 = lim;
    else if (ap1 < -lim) ap1 = -lim;
    this.ap[1] = ap1;

    // UPZERO: zero predictor update (sign-sign, leakage 2^-8)
    const inc = dq === 0 ? 0 : 128;
    const sgd = dq >> 15;
    for (let i = 1; i < 7; i++) {
      const s = d[i]! >> 15;
      const w = s === sgd ? inc : -inc;
      this.bp[i] = sat16(w + ((this.b[i]! * 32640) >> 15));
    }

    // DELAYZ / DELAYA / DELAYL
    for (let i = 6; i > 0; i--) {
      d[i] = d[i - 1]!;
      this.b[i] = this.bp[i]!;
    }
    for (let i = 2; i > 0; i--) {
      this.r[i] = this.r[i - 1]!;
      p[i] = p[i - 1]!;
      a[i] = this.ap[i]!;
    }

    // FILTEP: pole section
    wd1 = sat16(this.r[1]! + this.r[1]!);
    wd1 = (a[1]! * wd1) >> 15;
    wd2 = sat16(this.r[2]! + this.r[2]!);
    wd2 = (a[2]! * wd2) >> 15;
    this.sp = sat16(wd1 + wd2);

    // FILTEZ: zero section
    let sz = 0;
    for (let i = 6; i > 0; i--) {
      const w = sat16(d[i]! + d[i]!);
      sz += (this.b[i]! * w) >> 15;
    }
    this.sz = sat16(sz);
    // PREDIC
    this.s = sat16(this.sp + this.sz);
  }
}

/** BLOCK 3L: lower band log scale factor and DETL. */
function adaptLow(band: Band, il4: number): void {
  let nb = ((band.nb * 127) >> 7) + WL[il4]!;
  if (nb < 0) nb = 0;
  else if (nb > 18432) nb = 18432;
  band.nb = nb;
  band.det = scale(nb, 8);
}

/** BLOCK 3H: higher band log scale factor and DETH. */
function adaptHigh(band: Band, ih2: number): void {
  let nb = ((band.nb * 127) >> 7) + WH[ih2]!;
  if (nb < 0) nb = 0;
  else if (nb > 22528) nb = 22528;
  band.nb = nb;
  band.det = scale(nb, 10);
}

/** SCALEL / SCALEH: log -> linear scale factor. */
function scale(nb: number, shift: number): number {
  const wd1 = (nb >> 6) & 31;
  const wd2 = shift - (nb >> 11);
  const wd3 = wd2 < 0 ? ILB[wd1]! << -wd2 : ILB[wd1]! >> wd2;
  return wd3 << 2;
}

export class G722Decoder {
  private readonly low = new Band(32);
  private readonly high = new Band(8);
  private readonly x = new Int32Array(24); // receive QMF delay line

  /** Decode `input` (one byte per 2 output samples) into `output`; returns samples written. */
  decode(input: Uint8Array, output: Int16Array): number {
    let out = 0;
    const x = this.x;
    for (let j = 0; j < input.length && out + 1 < output.length; j++) {
      const code = input[j]!;
      const ilr = code & 0x3f;
      const ih = code >> 6;
      // lower band: 6-bit reconstruction for output, 4-bit for adaptation
      const low = this.low;
      let rl = low.s + ((low.det * QM6[ilr]!) >> 15);
      rl = rl > 16383 ? 16383 : rl < -16384 ? -16384 : rl;
      const dl = (low.det * QM4[ilr >> 2]!) >> 15;
      adaptLow(low, RL42[ilr >> 2]!);
      low.adapt(dl);
      // higher band
      const high = this.high;
      const dh = (high.det * QM2[ih]!) >> 15;
      let rh = dh + high.s;
      rh = rh > 16383 ? 16383 : rh < -16384 ? -16384 : rh;
      adaptHigh(high, RH2[ih]!);
      high.adapt(dh);
      // receive QMF: two output samples per code
      for (let i = 0; i < 22; i++) x[i] = x[i + 2]!;
      x[22] = rl + rh;
      x[23] = rl - rh;
      let xout1 = 0;
      let xout2 = 0;
      for (let i = 0; i < 12; i++) {
        xout2 += x[2 * i]! * QMF_EVEN[i]!;
        xout1 += x[2 * i + 1]! * QMF_EVEN[11 - i]!;
      }
      output[out++] = sat16(xout1 >> 11);
      output[out++] = sat16(xout2 >> 11);
    }
    return out;
  }
}

export class G722Encoder {
  private readonly low = new Band(32);
  private readonly high = new Band(8);
  private readonly x = new Int32Array(24); // transmit QMF delay line

  /** Encode 16 kHz `input` (even length) into `output` (one byte per 2 samples); returns bytes written. */
  encode(input: Int16Array, output: Uint8Array): number {
    let n = 0;
    const x = this.x;
    for (let j = 0; j + 1 < input.length && n < output.length; j += 2) {
      for (let i = 0; i < 22; i++) x[i] = x[i + 2]!;
      x[22] = input[j]!;
      x[23] = input[j + 1]!;
      let sumEven = 0;
      let sumOdd = 0;
      for (let i = 0; i < 12; i++) {
        sumOdd += x[2 * i]! * QMF_EVEN[i]!;
        sumEven += x[2 * i + 1]! * QMF_EVEN[11 - i]!;
      }
      const xl = sat16((sumEven + sumOdd) >> 14);
      const xh = sat16((sumEven - sumOdd) >> 14);

      // lower band: BLOCK 1L quantizer
      const low = this.low;
      const el = sat16(xl - low.s);
      const wd = el >= 0 ? el : -(el + 1);
      let i = 1;
      for (; i < 30; i++) {
        if (wd < (Q6[i]! * low.det) >> 12) break;
      }
      const il = el < 0 ? ILN[i]! : ILP[i]!;
      const dl = (low.det * QM4[il >> 2]!) >> 15;
      adaptLow(low, RL42[il >> 2]!);
      low.adapt(dl);

      // higher band: BLOCK 1H quantizer
      const high = this.high;
      const eh = sat16(xh - high.s);
      const wdh = eh >= 0 ? eh : -(eh + 1);
      const mih = wdh >= (564 * high.det) >> 12 ? 2 : 1;
      const ih = eh < 0 ? IHN[mih]! : IHP[mih]!;
      const dh = (high.det * QM2[ih]!) >> 15;
      adaptHigh(high, RH2[ih]!);
      high.adapt(dh);

      output[n++] = ((ih << 6) | il) & 0xff;
    }
    return n;
  }
}
