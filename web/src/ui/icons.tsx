/** Small line icons (24×24, currentColor), decorative: every use has a text label nearby. */
import type { JSX } from "preact";

function Icon(props: { d: string | string[]; size?: number; class?: string }): JSX.Element {
  const paths = Array.isArray(props.d) ? props.d : [props.d];
  return (
    <svg
      class={`icon ${props.class ?? ""}`}
      width={props.size ?? 20}
      height={props.size ?? 20}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {paths.map((d) => (
        <path d={d} key={d} />
      ))}
    </svg>
  );
}

export const IconPlus = () => <Icon d={["M12 5v14", "M5 12h14"]} />;
export const IconSettings = () => (
  <Icon d={["M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z", "M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z"]} />
);
export const IconBack = () => <Icon d={["M15 18l-6-6 6-6"]} />;
export const IconClose = () => <Icon d={["M18 6L6 18", "M6 6l12 12"]} />;
export const IconSend = () => <Icon d={["M22 2L11 13", "M22 2l-7 20-4-9-9-4 20-7z"]} />;
export const IconAttach = () => (
  <Icon d={["M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5"]} />
);
export const IconUsers = () => (
  <Icon d={["M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2", "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z", "M23 21v-2a4 4 0 0 0-3-3.9", "M16 3.1a4 4 0 0 1 0 7.8"]} />
);
export const IconVideo = () => <Icon d={["M23 7l-7 5 7 5V7z", "M3 5h11a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H3a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2z"]} />;
export const IconReply = () => <Icon d={["M9 14L4 9l5-5", "M20 20v-7a4 4 0 0 0-4-4H4"]} />;
export const IconEdit = () => <Icon d={["M12 20h9", "M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4L16.5 3.5z"]} />;
export const IconTrash = () => <Icon d={["M3 6h18", "M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6", "M10 11v6", "M14 11v6", "M9 6V4a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v2"]} />;
export const IconSmile = () => <Icon d={["M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z", "M8 14s1.5 2 4 2 4-2 4-2", "M9 9h.01", "M15 9h.01"]} />;
export const IconShield = () => <Icon d={["M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z"]} />;
export const IconCheck = () => <Icon d={["M20 6L9 17l-5-5"]} />;
export const IconAlert = () => <Icon d={["M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z", "M12 9v4", "M12 17h.01"]} />;
export const IconFile = () => <Icon d={["M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z", "M14 2v6h6"]} />;
export const IconDownload = () => <Icon d={["M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4", "M7 10l5 5 5-5", "M12 15V3"]} />;
export const IconLock = () => <Icon d={["M5 11h14a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2z", "M7 11V7a5 5 0 0 1 10 0v4"]} />;
export const IconMore = () => <Icon d={["M12 13a1 1 0 1 0 0-2 1 1 0 0 0 0 2z", "M19 13a1 1 0 1 0 0-2 1 1 0 0 0 0 2z", "M5 13a1 1 0 1 0 0-2 1 1 0 0 0 0 2z"]} />;

/** The Ting mark (decorative). */
export function Logo(props: { size?: number }): JSX.Element {
  const s = props.size ?? 32;
  return (
    <svg width={s} height={s} viewBox="0 0 64 64" aria-hidden="true" focusable="false" class="logo">
      <rect width="64" height="64" rx="14" class="logo-bg" />
      <path d="M18 20h28v7H35.5v22h-7V27H18z" class="logo-fg" />
    </svg>
  );
}
