/** Where the embedding worker's code is: `embedWorker.js` beside this module (see inference/workerScript.ts). */
import { workerScript } from '../inference/workerScript.js';

export function embedWorkerScript(): Promise<URL> {
  return workerScript(import.meta.url, 'embedWorker', 'qa-embed-worker');
}
