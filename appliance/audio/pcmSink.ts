/** Where decoded audio goes: a call leg's speech pipeline, a recorder, a test collector. */
export interface PcmSink {
  /** One frame of mono 16-bit PCM at `sampleRateHz`; the array is the sink's to keep. */
  write(samples: Int16Array, sampleRateHz: number): void;
  /** Called once, when the source of the audio ends. */
  close(): void;
}
