/**
 * Agents' browser softphones in the ACD (acd.mode = acd, WebRTC on): the WebRTC plane's softphones
 * (webrtc/softphones.ts) are the ACD's `AcdSoftphones` — rung alongside the agent's registered
 * phones — and each softphone connected or gone is told to the agent's presence, where it counts
 * like a SIP registration (available / logged out). Only agents the presence knows (routing's
 * agents) may connect a softphone. Once the ACD runs, the softphones may hold and transfer its calls
 * (`control`: webrtc/softphoneControl.ts). Pushed before the ACD calls: closed after them.
 */
import type { AcdSoftphones } from '../acd/agentRing.js';
import type { AgentPresence } from '../acd/agentPresence.js';
import { isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { SoftphoneControl, type SoftphoneControlAcd, type SoftphoneControlDeps } from '../webrtc/softphoneControl.js';
import type { WebRtcSoftphones } from '../webrtc/softphones.js';

export interface AcdSoftphonesWiring {
  /** What to give the ACD (`startAcdCalls({ softphones })`); undefined without WebRTC. */
  readonly ring: AcdSoftphones | undefined;
  /** Lets the softphones hold and transfer the ACD's calls (webrtc/softphoneControl.ts); returns its undo. */
  control(acd: SoftphoneControlAcd): () => void;
  close(): void;
}

export function wireAcdSoftphones(deps: {
  /** The WebRTC service, or null when WebRTC is off (then nothing is wired). */
  readonly webrtc: { readonly softphones: WebRtcSoftphones; readonly sipBridge: SoftphoneControlDeps['media'] } | null;
  readonly presence: Pick<AgentPresence, 'softphoneConnected' | 'softphoneDisconnected' | 'view'>;
  readonly logger: Logger;
}): AcdSoftphonesWiring {
  const { webrtc, presence, logger } = deps;
  if (webrtc === null) return { ring: undefined, control: () => () => undefined, close: () => undefined };
  const hub = webrtc.softphones;
  const tell = (agentId: string, what: 'connected' | 'disconnected'): void => {
    try {
      if (what === 'connected') presence.softphoneConnected(agentId);
      else presence.softphoneDisconnected(agentId);
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      logger.warn({ agentId, code: err.code, softphone: what }, 'agent state not moved by the softphone');
    }
  };
  hub.setAdmission((agentId) => presence.view(agentId) !== undefined);
  const offs = [
    hub.events.on('connected', ({ agentId }) => tell(agentId, 'connected')),
    hub.events.on('disconnected', ({ agentId }) => tell(agentId, 'disconnected')),
  ];
  // softphones that connected before the wiring (none at start-up, where this runs)
  for (const [agentId, n] of hub.connectedAgents()) for (let i = 0; i < n; i++) tell(agentId, 'connected');
  return {
    ring: hub,
    control: (acd) => {
      hub.setControl(new SoftphoneControl({ acd, softphones: hub, media: webrtc.sipBridge, logger }));
      return () => hub.setControl(null);
    },
    close: () => {
      for (const off of offs.splice(0)) off();
      hub.setAdmission(() => true);
    },
  };
}
