/** Camera, microphone and screen capture, with errors a person can act on. */

export type MediaProblem = "denied" | "notfound" | "inuse" | "other";

export interface Acquired {
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  audioProblem: MediaProblem | null;
  videoProblem: MediaProblem | null;
}

export interface DeviceChoice {
  audioIn?: string;
  videoIn?: string;
}

export interface DeviceLists {
  audioIn: MediaDeviceInfo[];
  videoIn: MediaDeviceInfo[];
  audioOut: MediaDeviceInfo[];
}

export function classify(e: unknown): MediaProblem {
  const name = (e as { name?: string } | null)?.name ?? "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") return "notfound";
  if (name === "NotReadableError" || name === "AbortError" || name === "TrackStartError") return "inuse";
  return "other";
}

function audioConstraints(deviceId?: string): MediaTrackConstraints {
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
  };
}

function videoConstraints(deviceId?: string): MediaTrackConstraints {
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    width: { ideal: 1280 },
    height: { ideal: 720 },
    frameRate: { ideal: 30, max: 30 },
  };
}

function mediaDevices(): MediaDevices | null {
  return typeof navigator !== "undefined" && navigator.mediaDevices ? navigator.mediaDevices : null;
}

/** Opens one device; throws the browser's error. */
export async function open(kind: "audio" | "video", deviceId?: string): Promise<MediaStreamTrack> {
  const md = mediaDevices();
  if (!md) throw Object.assign(new Error("no media devices"), { name: "NotFoundError" });
  const stream = await md.getUserMedia(
    kind === "audio" ? { audio: audioConstraints(deviceId) } : { video: videoConstraints(deviceId) },
  );
  const track = stream.getTracks()[0];
  if (!track) throw Object.assign(new Error("no track"), { name: "NotFoundError" });
  if (kind === "video") track.contentHint = "motion";
  return track;
}

/**
 * Opens what is wanted with one permission prompt where possible; if that fails, tries each
 * device alone so that, say, a blocked camera still leaves the microphone.
 */
export async function acquire(want: { audio: boolean; video: boolean }, choice: DeviceChoice): Promise<Acquired> {
  const out: Acquired = { audio: null, video: null, audioProblem: null, videoProblem: null };
  const md = mediaDevices();
  if (!md) {
    if (want.audio) out.audioProblem = "notfound";
    if (want.video) out.videoProblem = "notfound";
    return out;
  }
  if (want.audio && want.video) {
    try {
      const s = await md.getUserMedia({ audio: audioConstraints(choice.audioIn), video: videoConstraints(choice.videoIn) });
      out.audio = s.getAudioTracks()[0] ?? null;
      out.video = s.getVideoTracks()[0] ?? null;
      if (out.video) out.video.contentHint = "motion";
      if (out.audio && out.video) return out;
    } catch {
      // fall through: find out which one fails
    }
  }
  if (want.audio && !out.audio) {
    try {
      out.audio = await open("audio", choice.audioIn);
    } catch (e) {
      out.audioProblem = classify(e);
    }
  }
  if (want.video && !out.video) {
    try {
      out.video = await open("video", choice.videoIn);
    } catch (e) {
      out.videoProblem = classify(e);
    }
  }
  return out;
}

/** Lists devices (labels are empty until a permission was granted). */
export async function listDevices(): Promise<DeviceLists> {
  const md = mediaDevices();
  const all = md ? await md.enumerateDevices().catch(() => [] as MediaDeviceInfo[]) : [];
  return {
    audioIn: all.filter((d) => d.kind === "audioinput"),
    videoIn: all.filter((d) => d.kind === "videoinput"),
    audioOut: all.filter((d) => d.kind === "audiooutput"),
  };
}

/** Calls `fn` when devices are plugged in or out; returns an unsubscribe function. */
export function onDeviceChange(fn: () => void): () => void {
  const md = mediaDevices();
  if (!md) return () => undefined;
  md.addEventListener("devicechange", fn);
  return () => md.removeEventListener("devicechange", fn);
}

/** Whether audio output can be chosen (`HTMLMediaElement.setSinkId`). */
export function canChooseSpeaker(): boolean {
  return typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
}

/** Asks the person to pick a screen or window; `null` if they cancelled. */
export async function openScreen(): Promise<{ track: MediaStreamTrack; stream: MediaStream } | null> {
  const md = mediaDevices();
  if (!md?.getDisplayMedia) throw new Error("screen capture unavailable");
  try {
    const stream = await md.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    const track = stream.getVideoTracks()[0];
    if (!track) return null;
    track.contentHint = "detail";
    return { track, stream };
  } catch (e) {
    if (classify(e) === "denied") return null;
    throw e;
  }
}
