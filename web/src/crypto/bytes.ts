/** Bytes as hex and base64; room UUIDs as MLS group ids. */

export function hexEncode(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function hexDecode(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new Error("not hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function b64encode(bytes: Uint8Array): string {
  let bin = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    bin += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(bin);
}

export function b64decode(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Standard base64 of a key → lower-case hex (how ting-web names device keys). */
export function b64ToHex(text: string): string {
  return hexEncode(b64decode(text));
}

/** A room's MLS group id: the 16 bytes of its UUID (as ting-client does). */
export function groupId(roomId: string): Uint8Array {
  const hex = roomId.replace(/-/g, "");
  if (hex.length !== 32) throw new Error("not a room id");
  return hexDecode(hex);
}

/** The room UUID (hyphenated, lower case) of a 16-byte group id. */
export function roomIdOf(group: Uint8Array): string {
  const h = hexEncode(group);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function randomHex(bytes: number): string {
  return hexEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A random UUID v4 (a Delivery Service message id). */
export function uuid(): string {
  return crypto.randomUUID();
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
