/**
 * Headless Debian Chromium for the WebRTC end-to-end tests, driven by playwright-core: fake media
 * devices with a WAV file as the microphone, no permission prompts, autoplay allowed. Also builds
 * the pages the appliance serves (dist/web/webrtc) and prepares the capture WAV.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../../helpers/paths.js';

export const CHROMIUM = '/usr/bin/chromium';

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

/** Builds the pages into dist/web/webrtc (what `make webrtc-web` does). */
export function buildPages(): void {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'web', 'webrtc', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'pipe' });
}

/**
 * A 48 kHz mono WAV for --use-file-for-fake-audio-capture: `leadS` of silence, the clip, then
 * `tailS` of silence (Chromium loops the file; the tail lets the endpoint close the utterance).
 */
export function captureWav(clip: string, leadS: number, tailS: number): { file: string; durationS: number; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'evx-chromium-'));
  const file = path.join(dir, 'mic.wav');
  execFileSync('sox', [clip, '-r', '48000', '-c', '1', '-b', '16', file, 'pad', String(leadS), String(tailS)]);
  const durationS = Number(execFileSync('soxi', ['-D', file]).toString().trim());
  return { file, durationS, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Headless Chromium with a fake microphone playing `micWav` (none: a silent fake device). */
export async function launchChromium(micWav?: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      ...(micWav === undefined ? [] : [`--use-file-for-fake-audio-capture=${micWav}`]),
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}
