/**
 * Transcribe a whole WAV file through the streaming API (used by the CLI, eval-asr and tests):
 * audio is pushed in 100 ms pieces, waiting for the pump so the bounded input buffer never drops.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseWav, type WavAudio } from '../audio/wav.js';
import type { FinalEvent, KeywordEvent } from './events.js';
import type { SpeechRecognizer } from './api.js';
import type { StreamOptions } from './recognizer.js';
import type { WordTiming } from './words.js';

export interface FileTranscript {
  readonly file: string;
  /** The finals' text: words joined by spaces (English), characters run together (Mandarin). */
  readonly text: string;
  /** Mandarin: the finals' tonal pinyin. */
  readonly pinyin?: string;
  readonly words: readonly WordTiming[];
  readonly finals: readonly FinalEvent[];
  readonly keywords: readonly KeywordEvent[];
  readonly durationMs: number;
  /** CPU time of this process while decoding the file (user + system). */
  readonly cpuMs: number;
}

export type TranscribeOptions = Omit<StreamOptions, 'sampleRateHz'>;

export function readWavFile(path: string): WavAudio {
  return parseWav(readFileSync(path), basename(path));
}

export async function transcribeAudio(
  recognizer: SpeechRecognizer,
  audio: WavAudio,
  file: string,
  options: TranscribeOptions = {},
): Promise<FileTranscript> {
  const cpu0 = process.cpuUsage();
  const stream = recognizer.createStream({ ...options, sampleRateHz: audio.sampleRateHz });
  const finals: FinalEvent[] = [];
  const keywords: KeywordEvent[] = [];
  stream.on('final', (e) => finals.push(e));
  stream.on('keyword', (e) => keywords.push(e));
  let failure: Error | undefined;
  stream.on('error', (e) => (failure = e.error));
  try {
    const piece = Math.round(audio.sampleRateHz / 10);
    for (let off = 0; off < audio.samples.length; off += piece) {
      stream.push(audio.samples.subarray(off, off + piece));
      if ((off / piece) % 10 === 9) await stream.whenIdle();
      if (failure !== undefined) throw failure;
    }
    await stream.flush();
    if (failure !== undefined) throw failure;
  } finally {
    stream.close();
  }
  const cpu = process.cpuUsage(cpu0);
  const zh = recognizer.info().language === 'zh';
  return {
    file,
    text: finals.map((f) => f.text).join(zh ? '' : ' '),
    ...(zh ? { pinyin: finals.map((f) => f.pinyin ?? '').join(' ') } : {}),
    words: finals.flatMap((f) => f.words),
    finals,
    keywords,
    durationMs: Math.round(audio.durationMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  };
}

/** Read a phrase file: one phrase per line, `PHRASE [:boost] [#threshold]`; lines starting with # are comments. */
export function readPhraseFile(path: string): { phrase: string; boost?: number; threshold?: number }[] {
  const out: { phrase: string; boost?: number; threshold?: number }[] = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let phrase = line;
    let boost: number | undefined;
    let threshold: number | undefined;
    const t = /\s#([0-9.]+)\s*$/.exec(phrase);
    if (t) {
      threshold = Number(t[1]);
      phrase = phrase.slice(0, t.index).trim();
    }
    const b = /\s:([0-9.]+)\s*$/.exec(phrase);
    if (b) {
      boost = Number(b[1]);
      phrase = phrase.slice(0, b.index).trim();
    }
    out.push({ phrase, ...(boost !== undefined ? { boost } : {}), ...(threshold !== undefined ? { threshold } : {}) });
  }
  return out;
}
