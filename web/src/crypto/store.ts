/**
 * The device's local state in IndexedDB, readable only on this device.
 *
 * - `keys/wrap`: a non-extractable AES-GCM CryptoKey made by WebCrypto. Script can use it but
 *   never read it, so the raw storage key below cannot be copied off the device as such.
 * - `keys/storage`: the 32-byte random storage key, encrypted under that wrapping key.
 * - `state/client`: `TingClient.save(storageKey)` — identity, MLS groups, key packages.
 * - `state/app`, `state/history:<room>`: session, room progress and decrypted history as JSON,
 *   AES-256-GCM under the storage key (the record name is the associated data).
 *
 * Everything is written in one transaction, so a crash keeps the previous consistent state.
 * Sign-out deletes every record.
 */

const DB_NAME = "ting";
const DB_VERSION = 1;
const KEYS = "keys";
const STATE = "state";

interface WrappedKey { iv: Uint8Array; wrapped: ArrayBuffer }
interface Sealed { iv: Uint8Array; ct: ArrayBuffer }

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("IndexedDB request failed"));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
    tx.onerror = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
  });
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(KEYS)) db.createObjectStore(KEYS);
      if (!db.objectStoreNames.contains(STATE)) db.createObjectStore(STATE);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("cannot open IndexedDB"));
    req.onblocked = () => reject(new Error("IndexedDB is blocked by another tab"));
  });
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class LocalStore {
  private constructor(
    private db: IDBDatabase,
    /** The raw storage key for `TingClient.save/load` (held in worker memory only). */
    readonly storageKey: Uint8Array,
    private sealKey: CryptoKey,
  ) {}

  /** Opens the store, creating the wrapping and storage keys on first use. */
  static async open(): Promise<LocalStore> {
    const db = await open();
    const tx = db.transaction(KEYS, "readonly");
    const wrap = (await request(tx.objectStore(KEYS).get("wrap"))) as CryptoKey | undefined;
    const stored = (await request(tx.objectStore(KEYS).get("storage"))) as WrappedKey | undefined;
    let storageKey: Uint8Array;
    if (wrap && stored) {
      storageKey = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: stored.iv as Uint8Array<ArrayBuffer> }, wrap, stored.wrapped));
    } else {
      const wrapKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      storageKey = crypto.getRandomValues(new Uint8Array(32));
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const wrapped = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, wrapKey, storageKey as Uint8Array<ArrayBuffer>);
      const wtx = db.transaction([KEYS, STATE], "readwrite");
      wtx.objectStore(STATE).clear();
      wtx.objectStore(KEYS).put(wrapKey, "wrap");
      wtx.objectStore(KEYS).put({ iv, wrapped } satisfies WrappedKey, "storage");
      await done(wtx);
    }
    const sealKey = await crypto.subtle.importKey("raw", storageKey as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt", "decrypt"]);
    return new LocalStore(db, storageKey, sealKey);
  }

  private async seal(name: string, value: unknown): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: enc.encode(name) },
      this.sealKey,
      enc.encode(JSON.stringify(value)),
    );
    return { iv, ct };
  }

  private async open<T>(name: string, sealed: Sealed): Promise<T> {
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: sealed.iv as Uint8Array<ArrayBuffer>, additionalData: enc.encode(name) },
      this.sealKey,
      sealed.ct,
    );
    return JSON.parse(dec.decode(pt)) as T;
  }

  /** The saved client blob, or null on a fresh device. */
  async loadClient(): Promise<Uint8Array | null> {
    const tx = this.db.transaction(STATE, "readonly");
    const v = (await request(tx.objectStore(STATE).get("client"))) as Uint8Array | undefined;
    return v ?? null;
  }

  async loadRecord<T>(name: string): Promise<T | null> {
    const tx = this.db.transaction(STATE, "readonly");
    const v = (await request(tx.objectStore(STATE).get(name))) as Sealed | undefined;
    return v ? this.open<T>(name, v) : null;
  }

  /** Writes the client blob and the given sealed records in one transaction. */
  async save(client: Uint8Array | null, records: Record<string, unknown>): Promise<void> {
    const sealed: [string, Sealed][] = [];
    for (const [name, value] of Object.entries(records)) sealed.push([name, await this.seal(name, value)]);
    const tx = this.db.transaction(STATE, "readwrite");
    const s = tx.objectStore(STATE);
    if (client) s.put(client, "client");
    for (const [name, value] of sealed) s.put(value, name);
    await done(tx);
  }

  /** Deletes every record and key: nothing of this device is left in the browser. */
  async wipe(): Promise<void> {
    const tx = this.db.transaction([KEYS, STATE], "readwrite");
    tx.objectStore(STATE).clear();
    tx.objectStore(KEYS).clear();
    await done(tx);
    this.db.close();
  }
}
