/**
 * The message box: Enter sends, Shift+Enter adds a line, Escape cancels a reply or an edit.
 * Files come from the attach button or by dropping them on the room (RoomView).
 */
import type { JSX } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { t } from "../i18n";
import type { Entry } from "../crypto/types";
import { store } from "../app/store";
import { clientPolicy } from "../app/client-policy";
import { IconAttach, IconClose, IconSend } from "./icons";

/** Unsent text per room, kept while switching rooms (memory only). */
const drafts = new Map<string, string>();

export type ComposerMode = { kind: "new" } | { kind: "reply"; to: Entry } | { kind: "edit"; of: Entry };

function previewOf(e: Entry): string {
  if (e.item.kind === "text") return e.item.body;
  if (e.item.kind === "file") return e.item.file.name;
  return "";
}

export function Composer(props: {
  roomId: string;
  mode: ComposerMode;
  setMode: (m: ComposerMode) => void;
  onFiles: (files: File[]) => void;
  disabled: boolean;
  self: string;
}): JSX.Element {
  const { mode } = props;
  const [text, setText] = useState("");
  const area = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  // The attach button is hidden while the organisation policy switches file sharing off.
  const [fileSharing, setFileSharing] = useState(true);
  useEffect(() => {
    let live = true;
    void clientPolicy().then((p) => live && p && setFileSharing(p.file_sharing));
    return () => {
      live = false;
    };
  }, [props.roomId]);

  // Keep a draft per room while switching rooms. Layout effects run in the same commit as the
  // render that switched the room or the mode, so text typed right after the switch is never
  // overwritten by a late effect (a plain effect waits for the next frame).
  useLayoutEffect(() => {
    setText(drafts.get(props.roomId) ?? "");
    return () => {
      if (area.current) drafts.set(props.roomId, area.current.value);
    };
  }, [props.roomId]);

  useLayoutEffect(() => {
    if (mode.kind === "edit" && mode.of.item.kind === "text") setText(mode.of.item.body);
    if (mode.kind !== "new") area.current?.focus();
  }, [mode]);

  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [text]);

  const send = () => {
    const body = text.trim();
    if (!body) return;
    const roomId = props.roomId;
    let outgoing;
    if (mode.kind === "edit" && mode.of.item.kind === "text") {
      if (body === mode.of.item.body) {
        props.setMode({ kind: "new" });
        setText("");
        return;
      }
      outgoing = { type: "edit" as const, target: mode.of.item.id, body };
    } else if (mode.kind === "reply" && (mode.to.item.kind === "text" || mode.to.item.kind === "file")) {
      outgoing = { type: "text" as const, body, replyTo: mode.to.item.id };
    } else {
      outgoing = { type: "text" as const, body };
    }
    setText("");
    drafts.delete(roomId);
    props.setMode({ kind: "new" });
    store.crypto.call("send", roomId, outgoing).catch(() => {
      /* kept in the outbox with a retry button */
    });
  };

  const onKeyDown = (ev: KeyboardEvent) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      send();
    } else if (ev.key === "Escape" && mode.kind !== "new") {
      ev.preventDefault();
      if (mode.kind === "edit") setText("");
      props.setMode({ kind: "new" });
    }
  };

  return (
    <div class="composer" data-testid="composer">
      {mode.kind !== "new" && (
        <div class="composer-context" data-testid="composer-context">
          <span class="context-label">
            {mode.kind === "reply" ? t("composer.replying", { who: mode.to.sender === props.self ? t("common.you") : mode.to.sender }) : t("composer.editing")}
          </span>
          <span class="context-text">{previewOf(mode.kind === "reply" ? mode.to : mode.of)}</span>
          <button
            type="button"
            class="icon-button"
            aria-label={t("composer.cancel")}
            onClick={() => {
              if (mode.kind === "edit") setText("");
              props.setMode({ kind: "new" });
            }}
          >
            <IconClose />
          </button>
        </div>
      )}
      <div class="composer-row">
        <input
          ref={fileInput}
          type="file"
          multiple
          class="visually-hidden"
          tabIndex={-1}
          aria-hidden="true"
          data-testid="file-input"
          onChange={(ev) => {
            const files = [...(ev.currentTarget.files ?? [])];
            ev.currentTarget.value = "";
            if (files.length) props.onFiles(files);
          }}
        />
        {fileSharing ? (
          <button type="button" class="icon-button" aria-label={t("composer.attach")} title={t("composer.attach")} onClick={() => fileInput.current?.click()} disabled={props.disabled} data-testid="attach">
            <IconAttach />
          </button>
        ) : null}
        <label class="visually-hidden" for="composer-text">
          {t("composer.label")}
        </label>
        <textarea
          id="composer-text"
          ref={area}
          rows={1}
          value={text}
          placeholder={props.disabled ? t("composer.disabled") : t("composer.placeholder")}
          disabled={props.disabled}
          onInput={(ev) => setText(ev.currentTarget.value)}
          onKeyDown={onKeyDown}
          aria-describedby="composer-help"
          data-testid="composer-input"
        />
        <span id="composer-help" class="visually-hidden">
          {t("composer.help")}
        </span>
        <button type="button" class="icon-button send-button" aria-label={mode.kind === "edit" ? t("composer.save") : t("composer.send")} onClick={send} disabled={props.disabled || !text.trim()} data-testid="send">
          <IconSend />
        </button>
      </div>
    </div>
  );
}
