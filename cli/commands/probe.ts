/** `edgevox probe webrtc --wav FILE [--target URL]`: a real WebRTC call into an appliance. */
import { evxError } from '../../appliance/errors.js';
import { processIo, type CliCommand } from '../command.js';
import { parseCli } from '../parse.js';

const usage = `usage: edgevox probe webrtc --wav FILE [--target URL] [--codec opus|pcmu] [--api-token TOKEN | --agent-token TOKEN] [--media-only] [--timeout-ms N] [--json]

Places a WebRTC call with node-webrtc into the appliance at --target (default http://127.0.0.1:8080),
plays FILE as the caller and prints setup times, packets, RTT/loss. With an agent leg (--agent-token, or
--api-token / env EDGEVOX_API_TOKEN: a console API token with the supervisor role that mints one) it also
prints the caller->agent audio latency and the transcript the appliance produced (live, and as stored in
/api/v1/calls/:id with --api-token). Exits 1 if the call cannot be set up, no audio flows, or an agent leg
got no transcript (--media-only: do not require one, e.g. with asr.enabled false).`;

export const probeCommand: CliCommand = {
  name: 'probe',
  summary: 'Place a real WebRTC call into an appliance and measure it',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCli(
      argv,
      {
        wav: { type: 'string' },
        target: { type: 'string', default: 'http://127.0.0.1:8080' },
        codec: { type: 'string', default: 'opus' },
        'agent-token': { type: 'string' },
        'api-token': { type: 'string' },
        'media-only': { type: 'boolean', default: false },
        'timeout-ms': { type: 'string', default: '10000' },
        json: { type: 'boolean', default: false },
      },
      true,
    );
    if (positionals[0] !== 'webrtc' || positionals.length !== 1) throw evxError('EVX_ERR_CLI_USAGE', `expected 'probe webrtc'\n${usage}`);
    if (values.wav === undefined) throw evxError('EVX_ERR_CLI_USAGE', `--wav FILE is required\n${usage}`);
    if (values.codec !== 'opus' && values.codec !== 'pcmu') throw evxError('EVX_ERR_CLI_USAGE', '--codec is opus or pcmu');
    const timeoutMs = Number(values['timeout-ms']);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw evxError('EVX_ERR_CLI_USAGE', '--timeout-ms is a positive integer');
    const { runProbe } = await import('../../tools/webrtc/probeClient.js');
    const apiToken = values['api-token'] ?? process.env['EDGEVOX_API_TOKEN'];
    let code = 0;
    try {
      const report = await runProbe({
        wavPath: values.wav,
        target: values.target,
        codec: values.codec,
        timeoutMs,
        ...(values['agent-token'] === undefined ? {} : { agentToken: values['agent-token'] }),
        ...(apiToken === undefined || apiToken === '' ? {} : { apiToken }),
        ...(values['media-only'] ? { transcriptWaitMs: 0 } : {}),
      });
      const noAudio = report.packetsSent === 0 || (report.agent !== undefined && report.agent.rmsMax < 100);
      const noTranscript = !values['media-only'] && report.transcript !== undefined && report.transcript.live.trim() === '';
      if (noAudio || noTranscript) code = 1;
      if (values.json) io.out(JSON.stringify({ ok: code === 0, ...report }) + '\n');
      else {
        const f = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(1));
        io.out(`call ${report.callId} codec ${report.codec} audio ${report.audioMs} ms\n`);
        io.out(
          `setup: ${Object.entries(report.timingsMs)
            .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
            .join(', ')}\n`,
        );
        io.out(
          `sent: ${report.framesSent} frames, ${report.packetsSent} RTP packets, ${report.bytesSent} bytes; clock lag max ${f(report.maxClockLagMs)} ms\n`,
        );
        io.out(`rtcp: rtt ${f(report.rttMs)} ms, lost ${report.packetsLostReported ?? 'n/a'}\n`);
        if (report.agent !== undefined) {
          io.out(
            `agent: ${report.agent.framesReceived} frames, rms max ${report.agent.rmsMax.toFixed(0)}, onset latency ${f(report.agent.onsetLatencyMs)} ms, packets ${report.agent.packetsReceived} lost ${report.agent.packetsLost} jitter ${f(report.agent.jitterMs)} ms\n`,
          );
        }
        const t = report.transcript;
        if (t === undefined) io.out('transcript: not checked (give --api-token or --agent-token for an agent leg)\n');
        else {
          io.out(`transcript (live, ${t.finals} finals): ${t.live === '' ? '(none)' : t.live}\n`);
          io.out(
            `transcript latency: last final ${f(t.lastFinalAfterPlaybackMs)} ms after the audio ended; appliance per-final latency max ${f(t.applianceLatencyMsMax)} ms\n`,
          );
          if (t.stored !== undefined) io.out(`transcript (stored, source ${t.storedSource ?? 'n/a'}): ${t.stored}\n`);
        }
        io.out(code === 0 ? 'probe: ok\n' : `probe: FAILED (${noAudio ? 'no audio flowed' : 'no transcript'})\n`);
      }
    } catch (err) {
      io.err(`probe: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
      code = 1;
    }
    if (io === processIo) {
      // node-webrtc can crash during Node's natural exit teardown; end the process explicitly.
      await new Promise<void>((r) => process.stdout.write('', () => r()));
      process.exit(code);
    }
    return code;
  },
};
