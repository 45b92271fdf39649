/** Line icons (24×24, stroked with `currentColor`). */

const NS = "http://www.w3.org/2000/svg";

const PATHS = {
  mic: ["M12 3a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z", "M5.5 11a6.5 6.5 0 0 0 13 0", "M12 17.5V21", "M8.5 21h7"],
  micOff: [
    "M15 10.6V6a3 3 0 0 0-5.8-1.1",
    "M9 9v2a3 3 0 0 0 4.6 2.5",
    "M5.5 11a6.5 6.5 0 0 0 10.4 5.2",
    "M18.5 11a6.4 6.4 0 0 1-.5 2.5",
    "M12 17.5V21",
    "M8.5 21h7",
    "M3 3l18 18",
  ],
  cam: ["M3 7.5A1.5 1.5 0 0 1 4.5 6h9A1.5 1.5 0 0 1 15 7.5v9a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 3 16.5z", "M15 10.5l6-3.5v10l-6-3.5"],
  camOff: [
    "M9 6h4.5A1.5 1.5 0 0 1 15 7.5V12",
    "M15 10.5l6-3.5v10l-3.4-2",
    "M15 17.2a1.5 1.5 0 0 1-1.5.8h-9A1.5 1.5 0 0 1 3 16.5v-9A1.5 1.5 0 0 1 4.6 6",
    "M3 3l18 18",
  ],
  screen: ["M3 5.5A1.5 1.5 0 0 1 4.5 4h15A1.5 1.5 0 0 1 21 5.5v10a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 15.5z", "M8 21h8", "M12 17v4", "M12 13.5V7.5", "M9 10l3-3 3 3"],
  screenOff: ["M3 5.5A1.5 1.5 0 0 1 4.5 4h15A1.5 1.5 0 0 1 21 5.5v10a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 15.5z", "M8 21h8", "M12 17v4", "M9.5 8l5 5", "M14.5 8l-5 5"],
  hand: [
    "M8 13V5.5a1.5 1.5 0 0 1 3 0V11",
    "M11 10.5V4a1.5 1.5 0 0 1 3 0v6.5",
    "M14 10.5V5.5a1.5 1.5 0 0 1 3 0V14",
    "M8 12.5 6.6 10.6a1.6 1.6 0 0 0-2.5 2l3.2 4.6A7 7 0 0 0 13 20h.5a3.5 3.5 0 0 0 3.5-3.5V14",
  ],
  people: [
    "M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z",
    "M2.5 20a6.5 6.5 0 0 1 13 0",
    "M16 4.2a3.5 3.5 0 0 1 0 6.6",
    "M18 14.3a6.5 6.5 0 0 1 3.5 5.7",
  ],
  sliders: ["M4 6h9", "M17 6h3", "M15 4v4", "M4 12h3", "M11 12h9", "M9 10v4", "M4 18h11", "M19 18h1", "M17 16v4"],
  leave: ["M10 4H5.5A1.5 1.5 0 0 0 4 5.5v13A1.5 1.5 0 0 0 5.5 20H10", "M15 16l4-4-4-4", "M19 12H9"],
  lock: ["M6.5 10.5h11a1.5 1.5 0 0 1 1.5 1.5v7a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 5 19v-7a1.5 1.5 0 0 1 1.5-1.5z", "M8 10.5V7.5a4 4 0 0 1 8 0v3"],
  warning: ["M12 3.5 2.5 20h19z", "M12 10v4.5", "M12 17.3v.2"],
  close: ["M6 6l12 12", "M18 6 6 18"],
  check: ["M5 12.5l4.5 4.5L19 7.5"],
  signal: ["M5 19v-3", "M10 19v-7", "M15 19v-11", "M20 19V4"],
} as const;

export type IconName = keyof typeof PATHS;

export function icon(name: IconName, cls = ""): SVGSVGElement {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", `tm-icon ${cls}`.trim());
  for (const d of PATHS[name]) {
    const p = document.createElementNS(NS, "path");
    p.setAttribute("d", d);
    svg.append(p);
  }
  return svg;
}
