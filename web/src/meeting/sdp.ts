/**
 * The little SDP reading the meeting needs, and codec choice.
 *
 * The SFU labels every track it sends with `a=msid:p<participant> p<participant>/<mid>`: the
 * stream id names the publishing participant, the track id its media id on the publisher's
 * side (what `meeting_track_published` calls `mid`). The SFU's SDP writer drops the `/` from
 * the track id (`a=msid:p1 p10` for mid `0` of participant 1), so the mid is what follows the
 * stream id, with or without the slash.
 */

import type { MediaKind } from "./protocol";

export interface RemoteSection {
  /** The m-line's mid in this connection. */
  mid: string;
  kind: MediaKind;
  /** Publishing participant, from the msid stream id. */
  participantId: number | null;
  /** The publisher's own mid for the track. */
  publisherMid: string | null;
  /** Port 0 or `a=inactive`: the sender stopped this m-line. */
  stopped: boolean;
}

/** The m-sections of a remote SDP that carry media, with their msid labels. */
export function remoteSections(sdp: string): RemoteSection[] {
  const out: RemoteSection[] = [];
  let cur: RemoteSection | null = null;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("m=")) {
      const [kind, port] = line.slice(2).split(" ");
      cur =
        kind === "audio" || kind === "video"
          ? { mid: "", kind, participantId: null, publisherMid: null, stopped: port === "0" }
          : null;
      if (cur) out.push(cur);
    } else if (cur && line.startsWith("a=mid:")) {
      cur.mid = line.slice("a=mid:".length);
    } else if (cur && line === "a=inactive") {
      cur.stopped = true;
    } else if (cur && line.startsWith("a=msid:")) {
      const [stream, track] = line.slice("a=msid:".length).split(" ");
      const p = /^p(\d+)$/.exec(stream ?? "");
      if (p && stream) {
        cur.participantId = Number(p[1]);
        const rest = track?.startsWith(stream) ? track.slice(stream.length).replace(/^\//, "") : "";
        cur.publisherMid = rest || null;
      }
    }
  }
  return out;
}

/**
 * Restricts a transceiver to Opus (audio) or VP8 (video; with its RTX), the codecs whose clear
 * header bytes the SFrame layout knows. Returns false if the browser cannot do that.
 */
export function preferCodecs(t: RTCRtpTransceiver, kind: MediaKind): boolean {
  const caps = RTCRtpReceiver.getCapabilities(kind);
  if (!caps || typeof t.setCodecPreferences !== "function") return false;
  const main = kind === "audio" ? "audio/opus" : "video/vp8";
  const chosen = caps.codecs.filter((c) => c.mimeType.toLowerCase() === main);
  if (chosen.length === 0) return false;
  if (kind === "video") chosen.push(...caps.codecs.filter((c) => c.mimeType.toLowerCase() === "video/rtx"));
  try {
    t.setCodecPreferences(chosen);
    return true;
  } catch {
    return false;
  }
}
