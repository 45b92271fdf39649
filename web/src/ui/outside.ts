/** Closes a popup (menu, emoji picker) when the user clicks or taps outside it. */
import type { RefObject } from "preact";
import { useEffect } from "preact/hooks";

export function useOutside(ref: RefObject<HTMLElement | null>, open: boolean, close: () => void): void {
  useEffect(() => {
    if (!open) return;
    const on = (ev: PointerEvent) => {
      if (ref.current && ev.target instanceof Node && !ref.current.contains(ev.target)) close();
    };
    document.addEventListener("pointerdown", on, true);
    return () => document.removeEventListener("pointerdown", on, true);
  }, [open]);
}
