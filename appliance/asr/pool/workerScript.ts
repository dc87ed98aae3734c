/** Where the recognition worker's code is: `worker.js` beside this module (see inference/workerScript.ts). */
import { workerScript } from '../../inference/workerScript.js';

export function asrWorkerScript(): Promise<URL> {
  return workerScript(import.meta.url, 'worker', 'asr-worker');
}
