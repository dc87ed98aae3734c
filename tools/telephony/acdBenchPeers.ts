/**
 * The far ends of `make bench-acd`, in one child process (acdPeersProcess.ts runs it): M agents'
 * desk phones and N callers, over SIP/UDP + RTP (PCMU) on loopback, against a box in ACD mode.
 *
 *   agents:  each phone has its own SIP socket and REGISTERs as `<prefix>i` with digest (the
 *            account's password), so the box's presence makes the agent available; an INVITE from
 *            the box is answered at once (180, 200 with a PCMU answer, retransmitted until the ACK);
 *            the agent then talks (its own clip) and captures what it receives with arrival times;
 *            the box's BYE ends the leg. At the end every phone unregisters (Expires: 0, digest).
 *   callers: INVITE the box -> 200 -> ACK, then speak (the routing utterance, `--speech-seconds`),
 *            then keep talking with a marker every `--marker-interval-ms`: 100 ms of a 1 kHz tone
 *            whose first 20 ms frame carries the caller's number and the marker's number in its
 *            first 8 bytes. The time the frame is handed to the socket is kept.
 *
 * Bridging is checked on the wire: a caller counts as bridged when one of its markers arrives at an
 * agent's phone (identified by the tag, the tone confirmed by a Goertzel filter on the decoded
 * frame). The delay the box adds on the caller -> agent path is, per marker, arrival at the agent's
 * socket minus the send at the caller's socket, both read from this process's one clock
 * (performance.now()). A direct socket pair in this process measures the same thing without the box
 * at the same time (the floor of the method: loopback plus this process's own event-loop delay).
 * A bridged caller holds the call `--hold-seconds` after its first marker arrived, then hangs up.
 *
 * Why not sipp for the agents (as the issue first asked): one sipp process can neither REGISTER N
 * different digest accounts nor then take new dialogs on each of those flows; and the callers are
 * ours rather than sipp because each marker's send time must come from the clock the agents read
 * arrivals with. One shared 10 ms timer paces every stream and retransmits SIP, as benchCallers.ts.
 *
 * Prints progress on stderr and one JSON line (AcdPeersReport) on stdout at the end.
 */
import type dgram from 'node:dgram';
import { parseRtp, writeRtp } from '../../appliance/rtp/packet.js';
import { AgentPhone } from './acdAgentPhone.js';
import { Caller, callerByIndex, callersById } from './acdCaller.js';
import {
  agentCount,
  answerToInvite,
  calls,
  count,
  FRAME_BYTES,
  HOST,
  log,
  loopbackDelays,
  markerDelays,
  openRtp,
  rate,
  report,
  SipSocket,
  sipSockets,
  streams,
  summary,
  TICK_MS,
  TONE_FRAME,
} from './acdPeersShared.js';

// --- the floor of the method: a direct socket pair, same process, same clock ---------------------

class LoopbackProbe {
  private sender: dgram.Socket | undefined;
  private receiver: dgram.Socket | undefined;
  private nextAt = 0;
  private seq = 0;
  private readonly sentAt = new Map<number, number>();

  async open(): Promise<void> {
    this.receiver = await openRtp((msg, at) => {
      const p = parseRtp(msg);
      if (typeof p === 'string') return;
      const t = this.sentAt.get(p.sequence);
      if (t === undefined) return;
      this.sentAt.delete(p.sequence);
      loopbackDelays.push(at - t);
    });
    this.sender = await openRtp(() => undefined);
  }

  /** One packet every 100 ms, sent from the shared clock like the markers. */
  pace(now: number): void {
    if (this.sender === undefined || this.receiver === undefined || now < this.nextAt) return;
    this.nextAt = now + 100;
    const packet = Buffer.allocUnsafe(12 + FRAME_BYTES);
    const seq = this.seq++ & 0xffff;
    writeRtp(packet, { marker: false, payloadType: 0, sequence: seq, timestamp: seq * FRAME_BYTES, ssrc: 1 }, TONE_FRAME);
    this.sender.send(packet, this.receiver.address().port, HOST);
    this.sentAt.set(seq, performance.now());
  }

  close(): void {
    this.sender?.close();
    this.receiver?.close();
  }
}

// --- the run -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const phones: AgentPhone[] = [];
  const probe = new LoopbackProbe();
  await probe.open();
  let probing = false;
  const timer = setInterval(() => {
    const now = performance.now();
    for (const s of streams) s.pace(now);
    for (const s of sipSockets) s.tick(now);
    for (const p of phones) p.tick(now);
    if (probing) probe.pace(now);
  }, TICK_MS);

  // 1. the agents' phones register
  for (let i = 0; i < agentCount; i++) {
    const sip = await SipSocket.open();
    sipSockets.add(sip);
    phones.push(new AgentPhone(i, sip));
  }
  await Promise.all(
    phones.map(async (p) => {
      try {
        if (await p.register(3600)) report.agents.registered++;
      } catch (err) {
        count(report.agents.registerFailures, (err as Error).message);
      }
    }),
  );
  log(`${report.agents.registered}/${agentCount} agents registered`);

  // 2. the callers, `rate` new calls per second
  const callerSip = await SipSocket.open();
  sipSockets.add(callerSip);
  callerSip.onRequest = (req) => callersById.get(req.headers.get('call-id') ?? '')?.onRequest(req);
  callerSip.onStray = (res) => callersById.get(res.headers.get('call-id') ?? '')?.onStray(res);
  probing = true;
  const runs: Promise<void>[] = [];
  for (let i = 0; i < calls; i++) {
    const c = new Caller(i, callerSip);
    callersById.set(c.callId, c);
    callerByIndex[i] = c;
    runs.push(new Promise<void>((r) => setTimeout(r, (i * 1000) / rate)).then(() => c.run()));
  }
  let last = '';
  const progress = setInterval(() => {
    const line = `answered by box ${report.callers.answeredByBox}/${calls}, agent INVITEs ${report.agents.invites}, bridged ${report.callers.bridged}, done ${report.callers.completedBye + report.callers.failed}`;
    if (line !== last) log(line);
    last = line;
  }, 5000);
  await Promise.allSettled(runs);
  clearInterval(progress);
  probing = false;
  log(
    `callers done: bridged ${report.callers.bridged}/${calls}, completed ${report.callers.completedBye}, failed ${report.callers.failed} ${JSON.stringify(report.callers.failures)}`,
  );

  // 3. the box's BYEs to the agents' legs, then every phone unregisters
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline && report.agents.byeFromBox < report.agents.acked) await new Promise((r) => setTimeout(r, 100));
  await Promise.all(
    phones.map(async (p) => {
      try {
        if (await p.register(0)) report.agents.unregistered++;
      } catch (err) {
        count(report.agents.registerFailures, `unregister: ${(err as Error).message}`);
      }
      p.close();
    }),
  );
  clearInterval(timer);
  for (const s of sipSockets) s.close();
  probe.close();
  const cpu = process.cpuUsage(cpu0);
  report.answerToAgentInvite = summary(answerToInvite);
  report.markerDelay = summary(markerDelays);
  report.loopbackDelay = summary(loopbackDelays);
  report.maxSendLateMs = Math.round(report.maxSendLateMs);
  report.peersCpuPctOfOneCore = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 1000) / 10;
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`acdBenchPeers: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
