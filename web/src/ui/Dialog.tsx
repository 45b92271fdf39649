/**
 * Modal dialog on the native `<dialog>` (the rest of the page becomes inert): focus moves in,
 * Tab cycles inside, Escape closes, focus returns to the opener.
 */
import type { ComponentChildren, JSX } from "preact";
import { useId, useLayoutEffect, useRef } from "preact/hooks";
import { t } from "../i18n";
import { IconClose } from "./icons";

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
const IN_BODY = FOCUSABLE.split(", ")
  .map((s) => `.dialog-body ${s}`)
  .join(", ");

export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  testid?: string;
  wide?: boolean;
  describedBy?: string;
}): JSX.Element {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const close = useRef(props.onClose);
  close.current = props.onClose;

  // A layout effect: the dialog is modal and focused in the commit that renders it, so keys
  // pressed right after opening it land inside it, not on the page behind.
  useLayoutEffect(() => {
    const d = ref.current;
    if (!d) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!d.open) d.showModal();
    // The field marked autofocus, else the first control of the body, else the close button.
    const first =
      d.querySelector<HTMLElement>("[autofocus]") ??
      d.querySelector<HTMLElement>(IN_BODY) ??
      d.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    return () => {
      if (d.open) d.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  const onKeyDown = (ev: KeyboardEvent) => {
    if (ev.key !== "Tab" || !ref.current) return;
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null);
    if (!items.length) return;
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (ev.shiftKey && document.activeElement === first) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && document.activeElement === last) {
      ev.preventDefault();
      first.focus();
    }
  };

  return (
    <dialog
      ref={ref}
      class={`dialog${props.wide ? " dialog-wide" : ""}`}
      aria-labelledby={titleId}
      aria-describedby={props.describedBy}
      data-testid={props.testid}
      onCancel={(ev) => {
        ev.preventDefault();
        close.current();
      }}
      onKeyDown={onKeyDown}
      onClick={(ev) => {
        if (ev.target === ref.current) close.current();
      }}
    >
      <div class="dialog-inner">
        <header class="dialog-head">
          <h2 id={titleId}>{props.title}</h2>
          <button type="button" class="icon-button" aria-label={t("common.close")} onClick={() => close.current()}>
            <IconClose />
          </button>
        </header>
        <div class="dialog-body">{props.children}</div>
      </div>
    </dialog>
  );
}

/** A yes/no question. */
export function ConfirmDialog(props: {
  title: string;
  text: string;
  confirm: string;
  danger?: boolean;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
}): JSX.Element {
  const textId = useId();
  return (
    <Dialog title={props.title} onClose={props.onClose} describedBy={textId} testid="confirm-dialog">
      <p id={textId}>{props.text}</p>
      <div class="dialog-actions">
        <button type="button" class="button" onClick={props.onClose}>
          {t("common.cancel")}
        </button>
        <button
          type="button"
          class={`button ${props.danger ? "button-danger" : "button-primary"}`}
          data-testid="confirm"
          onClick={async () => {
            await props.onConfirm();
            props.onClose();
          }}
        >
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}
