/**
 * Encrypted files (ting-client files.rs): a file is encrypted in 64 KiB AEAD chunks with a fresh
 * key while it is read, uploaded in pieces (`PATCH /blobs/{id}` with `Upload-Offset`, so a
 * failed piece resumes where the server's copy ends), then its `FileRef` — key, name, type,
 * hash — travels inside an MLS message. Downloads are decrypted and checked while streaming.
 */
import { TingFileDecryptor, TingFileEncryptor, type FileRef } from "../../pkg/ting_web";
import { ApiError } from "./api";
import type { Engine } from "./engine";
import type { Ops } from "./ops";
import type { UploadProgress } from "./types";

const CHUNK = 64 * 1024;
const TAG_LEN = 16;
/** Bytes per PATCH request. */
const PIECE = 1024 * 1024;
const ATTEMPTS = 5;

/** Size of the ciphertext of a `size`-byte file (ting-e2ee `file::ciphertext_len`). */
export function ciphertextLen(size: number, chunkSize = CHUNK): number {
  const chunks = Math.max(1, Math.ceil(size / chunkSize));
  return size + chunks * TAG_LEN;
}

/** The largest file whose ciphertext fits in `maxCipher` bytes (the server's limit). */
export function maxPlaintextLen(maxCipher: number, chunkSize = CHUNK): number {
  if (maxCipher < TAG_LEN) return 0;
  // Each started chunk adds one tag: start below the answer and step up to it.
  let size = Math.max(0, maxCipher - Math.ceil(maxCipher / chunkSize) * TAG_LEN);
  while (ciphertextLen(size + 1, chunkSize) <= maxCipher) size++;
  return size;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export class Files {
  constructor(
    private e: Engine,
    private ops: Ops,
    private progress: (p: UploadProgress) => void,
  ) {}

  /** Encrypts, uploads and announces a file. Runs outside the engine's queue until the send. */
  async send(roomId: string, file: File, uploadId: string): Promise<void> {
    const total = ciphertextLen(file.size);
    const report = (sent: number, state: UploadProgress["state"], error: string | null = null) =>
      this.progress({ uploadId, roomId, name: file.name, sent, total, state, error });
    report(0, "uploading");
    try {
      const blob = await this.e.api.createBlob(roomId, total);
      const enc = new TingFileEncryptor(undefined);
      let offset = 0;
      let buffered: Uint8Array[] = [];
      let bufferedLen = 0;
      const flush = async () => {
        if (!bufferedLen) return;
        const piece = concat(buffered, bufferedLen);
        buffered = [];
        bufferedLen = 0;
        offset = await this.upload(blob.id, offset, piece);
        report(offset, "uploading");
      };
      const reader = file.stream().getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const ct = enc.update(value);
        if (ct.length) {
          buffered.push(ct);
          bufferedLen += ct.length;
        }
        if (bufferedLen >= PIECE) await flush();
      }
      const type = file.type || "application/octet-stream";
      const { chunk, fileRef } = enc.finish(blob.id, file.name || "file", type);
      buffered.push(chunk);
      bufferedLen += chunk.length;
      await flush();
      if (offset !== total) throw new ApiError("upload_incomplete", "the upload ended early");
      report(total, "sending");
      await this.e.exclusive(() => this.ops.sendEnvelope(roomId, { body: { type: "file", file: fileRef } }));
      report(total, "done");
    } catch (err) {
      const code = (err as { code?: string }).code ?? "internal";
      report(0, "failed", code);
      throw err;
    }
  }

  /** Uploads one piece at `offset`, resuming after failures; returns the new offset. */
  private async upload(blobId: string, offset: number, piece: Uint8Array): Promise<number> {
    let last: unknown = null;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        const state = await this.e.api.uploadBlob(blobId, offset, piece);
        return state.received;
      } catch (err) {
        last = err;
        if (!(err instanceof ApiError)) throw err;
        if (!["network", "unavailable", "offset_mismatch", "http_error"].includes(err.code)) throw err;
        await sleep(500 * (attempt + 1));
        const status = await this.e.api.blobStatus(blobId).catch(() => null);
        if (status) {
          const done = status.received - offset;
          if (done >= piece.length) return status.received;
          if (done > 0) {
            piece = piece.subarray(done);
            offset = status.received;
          }
        }
      }
    }
    throw last;
  }

  /** Downloads, decrypts and verifies a shared file. */
  async fetch(file: FileRef): Promise<Blob> {
    const resp = await this.e.api.downloadBlob(file.blobId);
    const dec = new TingFileDecryptor(file);
    const parts: Uint8Array[] = [];
    try {
      const reader = resp.body?.getReader();
      if (!reader) throw new ApiError("protocol", "empty download");
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const plain = dec.update(value);
        if (plain.length) parts.push(plain);
      }
      dec.finish();
    } finally {
      dec.free();
    }
    return new Blob(parts as Uint8Array<ArrayBuffer>[], { type: safeType(file.mediaType) });
  }
}

/** Only a plain media type is kept for the Blob (no parameters a browser might act on). */
function safeType(t: string): string {
  return /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i.test(t) ? t.toLowerCase() : "application/octet-stream";
}
