/**
 * UI strings in Swedish and English. The language comes from the saved choice, else from
 * `navigator.language` (Swedish for sv*, English otherwise); switching it is remembered in
 * localStorage and announced to listeners (the meeting view included).
 */
import { en } from "./en";
import { sv } from "./sv";
import type { Lang } from "../meeting/host";

export type { Lang };
export type Key = keyof typeof en;
export type Messages = Record<Key, string>;

const tables: Record<Lang, Messages> = { en, sv };
const STORAGE = "ting.lang";

function initial(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE);
    if (saved === "sv" || saved === "en") return saved;
  } catch {
    /* storage unavailable: fall through */
  }
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const l of langs) {
    const base = (l || "").toLowerCase().split("-")[0];
    if (base === "sv" || base === "en") return base;
  }
  return "en";
}

let current: Lang = initial();
const listeners = new Set<(l: Lang) => void>();
document.documentElement.lang = current;

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  if (l === current) return;
  current = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem(STORAGE, l);
  } catch {
    /* not remembered */
  }
  for (const fn of listeners) fn(l);
}

export function onLang(fn: (l: Lang) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The string for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: Key, params?: Record<string, string | number>): string {
  const s = tables[current][key] ?? en[key];
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** `key.one` or `key.other` by count (both languages pluralise the same way). */
export function tn(base: "unread" | "members" | "devices" | "people", n: number, params?: Record<string, string | number>): string {
  const key = `${base}.${n === 1 ? "one" : "other"}` as Key;
  return t(key, { n, ...params });
}

/** The string for an error code, or a generic one that names the code. */
export function errorText(code: string): string {
  const key = `error.${code}` as Key;
  if (key in en) return t(key);
  return t("error.generic", { code });
}

export function locale(): string {
  return current === "sv" ? "sv-SE" : "en-GB";
}

export function formatTime(unixSecs: number): string {
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" }).format(unixSecs * 1000);
}

export function formatDay(unixSecs: number): string {
  const d = new Date(unixSecs * 1000);
  const today = new Date();
  const yesterday = new Date(Date.now() - 86400000);
  if (d.toDateString() === today.toDateString()) return t("day.today");
  if (d.toDateString() === yesterday.toDateString()) return t("day.yesterday");
  return new Intl.DateTimeFormat(locale(), { weekday: "long", day: "numeric", month: "long", year: d.getFullYear() === today.getFullYear() ? undefined : "numeric" }).format(d);
}

export function formatDate(unixSecs: number): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(unixSecs * 1000);
}

export function formatBytes(n: number): string {
  const units = current === "sv" ? ["byte", "kB", "MB", "GB"] : ["bytes", "KB", "MB", "GB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
}
