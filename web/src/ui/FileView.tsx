/**
 * A shared file in the timeline: images are decrypted in the crypto worker and previewed from a
 * blob: URL; other files get a download button (decrypted on demand, then saved).
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText, formatBytes, t } from "../i18n";
import { CallError } from "../crypto/rpc";
import type { FileRef } from "../crypto/types";
import { store } from "../app/store";
import { Dialog } from "./Dialog";
import { IconDownload, IconFile } from "./icons";

const PREVIEW_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"]);
const PREVIEW_MAX = 25 * 1024 * 1024;

/** Decrypted files by blob id, kept for the page's lifetime. */
const cache = new Map<string, Promise<string>>();

function objectUrl(file: FileRef): Promise<string> {
  let p = cache.get(file.blobId);
  if (!p) {
    p = store.crypto.call("fetchFile", file).then((blob) => URL.createObjectURL(blob));
    p.catch(() => cache.delete(file.blobId));
    cache.set(file.blobId, p);
  }
  return p;
}

export function isPreviewable(file: FileRef): boolean {
  return PREVIEW_TYPES.has(file.mediaType.toLowerCase()) && file.size <= PREVIEW_MAX;
}

function save(url: string, name: string): void {
  const a = document.createElement("a");
  a.href = url;
  a.download = name || "file";
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
}

export function FileView(props: { file: FileRef }): JSX.Element {
  const { file } = props;
  const preview = isPreviewable(file);
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [zoom, setZoom] = useState(false);

  useEffect(() => {
    if (!preview) return;
    let live = true;
    objectUrl(file).then(
      (u) => live && setUrl(u),
      (err) => live && setError(err instanceof CallError ? err.code : "internal"),
    );
    return () => {
      live = false;
    };
  }, [file.blobId]);

  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      save(await objectUrl(file), file.name);
    } catch (err) {
      setError(err instanceof CallError ? err.code : "internal");
    } finally {
      setBusy(false);
    }
  };

  const errorLine = error && (
    <p class="file-error" role="alert">
      {error === "file_integrity" || error === "tampered" ? t("file.tampered") : t("file.failed", { reason: errorText(error) })}
    </p>
  );

  if (preview && !error) {
    return (
      <figure class="file-image" data-testid="file-image">
        {url ? (
          <button type="button" class="image-button" onClick={() => setZoom(true)} aria-label={t("file.open_image", { name: file.name })}>
            <img src={url} alt={file.name} data-testid="image-preview" loading="lazy" decoding="async" />
          </button>
        ) : (
          <div class="image-placeholder" role="status">
            {t("file.decrypting")}
          </div>
        )}
        <figcaption>
          <span class="file-name">{file.name}</span> <span class="muted">{formatBytes(file.size)}</span>
        </figcaption>
        {zoom && url && (
          <Dialog title={file.name} onClose={() => setZoom(false)} wide testid="image-dialog">
            <img class="image-full" src={url} alt={file.name} />
            <div class="dialog-actions">
              <button type="button" class="button" onClick={() => save(url, file.name)}>
                <IconDownload /> {t("file.download")}
              </button>
            </div>
          </Dialog>
        )}
      </figure>
    );
  }

  return (
    <div class="file-card" data-testid="file-card">
      <span class="file-icon">
        <IconFile />
      </span>
      <span class="file-meta">
        <span class="file-name">{file.name}</span>
        <span class="muted small">
          {formatBytes(file.size)} · {file.mediaType || t("file.unknown_type")}
        </span>
        {errorLine}
      </span>
      <button type="button" class="button" onClick={download} disabled={busy} data-testid="file-download">
        <IconDownload /> {busy ? t("file.decrypting") : t("file.download")}
      </button>
    </div>
  );
}
