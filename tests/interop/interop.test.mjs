// Interop: native ting-e2ee members (the `interop_peer` example, driven over line-delimited JSON)
// and wasm members (ting-web, built with `scripts/build-wasm.sh --target nodejs`) in the same
// MLS groups. Run through tests/interop/run.sh, which builds both; or directly with
//
//   TING_INTEROP_PEER=<path to interop_peer> node --test tests/interop/
//
// Covered, in both directions (native creates the group and adds wasm; wasm creates and adds
// native): Welcome processing, commits created on one side and processed on the other, chat
// messages both ways, identical epochs, member lists, safety numbers and SFrame key
// fingerprints, media frames encrypted on one side and decrypted on the other, and removal: the
// removed member (whether it processed its removal or kept a stale copy of its state) cannot
// decrypt chat messages or media frames of the next epoch, while the remaining members can.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const pkgPath = process.env.TING_WEB_PKG ?? path.join(here, "pkg", "ting_web.js");
const peerPath =
  process.env.TING_INTEROP_PEER ??
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(repo, "target"), "debug", "examples", "interop_peer");

if (!existsSync(pkgPath)) throw new Error(`no wasm build at ${pkgPath}: run tests/interop/run.sh`);
if (!existsSync(peerPath)) throw new Error(`no native peer at ${peerPath}: run tests/interop/run.sh`);

const web = createRequire(import.meta.url)(pkgPath);
const { TingClient, TingMediaKeys, inspectKeyLogRecord, rendezvousOf } = web;

const hex = (bytes) => Buffer.from(bytes).toString("hex");

/**
 * A wasm member: a new TingClient that created its user's identity and certified itself (Ting
 * accepts no uncertified MLS member).
 */
function certified(userId) {
  const client = new TingClient(userId);
  client.createIdentity(`${userId}/wasm`, Date.now());
  return client;
}
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"));
const utf8 = (s) => new TextEncoder().encode(s);
const now = () => Date.now();
const NO_META = new Uint8Array(0);

/** A native member: one `interop_peer` process, strictly request/response. */
class NativePeer {
  constructor(name) {
    this.name = name;
    this.proc = spawn(peerPath, [], { stdio: ["pipe", "pipe", "inherit"] });
    this.waiting = [];
    this.exited = new Promise((resolve) => this.proc.on("exit", resolve));
    this.proc.on("exit", (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`${name}: peer exited (${code})`));
    });
    createInterface({ input: this.proc.stdout }).on("line", (line) => {
      const w = this.waiting.shift();
      if (!w) throw new Error(`${name}: unsolicited output ${line}`);
      w.resolve(JSON.parse(line));
    });
  }

  /** Sends a command; resolves with the response, rejects on `ok: false` (with `fault`). */
  async call(cmd, fields = {}) {
    const response = await this.raw(cmd, fields);
    if (!response.ok) {
      const err = new Error(`${this.name} ${cmd}: ${response.error}`);
      err.fault = response.fault;
      throw err;
    }
    return response;
  }

  /** Sends a command; resolves with the response whatever `ok` says. */
  raw(cmd, fields = {}) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.proc.stdin.write(JSON.stringify({ cmd, ...fields }) + "\n");
    });
  }

  async quit() {
    this.proc.stdin.end(JSON.stringify({ cmd: "quit" }) + "\n");
    await this.exited;
  }
}

/** Asserts `fn` throws a TingError (optionally with one of `codes`); returns it. */
function assertTingError(fn, codes) {
  let error;
  assert.throws(fn, (e) => {
    error = e;
    return e.name === "TingError" && typeof e.code === "string" && ["peer", "misuse", "internal"].includes(e.fault);
  });
  if (codes) assert.ok(codes.includes(error.code), `expected one of ${codes}, got ${error.code}: ${error.message}`);
  return error;
}

/** Asserts a native call fails. */
async function assertNativeFails(promise) {
  await assert.rejects(promise, (e) => typeof e.fault === "string");
}

const memberKey = (m) => `${m.leafIndex ?? m.leaf_index}:${m.userId ?? m.user_id}:${m.deviceKey ?? m.device_key}`;
const sortedMembers = (list) => list.map(memberKey).sort();

/** Checks that every member agrees on epoch, member list and SFrame key fingerprint. */
async function assertSameEpoch(group, natives, wasms) {
  const views = [];
  for (const n of natives) {
    const { fingerprint, epoch } = await n.call("sframe_key_fingerprint", { group_id: hex(group) });
    const { members } = await n.call("members", { group_id: hex(group) });
    views.push({ who: n.name, epoch, fingerprint, members: sortedMembers(members) });
  }
  for (const [name, w] of wasms) {
    views.push({
      who: name,
      epoch: w.epoch(group),
      fingerprint: w.mediaKeyFingerprint(group),
      members: sortedMembers(w.members(group)),
    });
  }
  for (const v of views.slice(1)) {
    assert.deepEqual({ ...v, who: undefined }, { ...views[0], who: undefined }, `${v.who} vs ${views[0].who}`);
  }
  assert.match(views[0].fingerprint, /^[0-9a-f]{16}$/);
  return views[0];
}

/** Native -> wasm and wasm -> native chat message. */
async function chatBothWays(group, native, nativeUser, wasm, wasmUser, tag) {
  const text = `native->wasm ${tag} ✓`;
  const { ciphertext } = await native.call("encrypt", { group_id: hex(group), text });
  const got = wasm.handleMessage(group, unhex(ciphertext), now());
  assert.equal(got.type, "message");
  assert.equal(got.sender.userId, nativeUser);
  assert.deepEqual(got.envelope.body, { type: "text", body: text });
  assert.match(got.envelope.id, /^[0-9a-f]{32}$/);
  // MLS deletes the key after use: the same ciphertext again is a replay.
  assertTingError(() => wasm.handleMessage(group, unhex(ciphertext), now()), ["replayed"]);

  const reply = `wasm->native ${tag} ✓`;
  const ct = wasm.encryptMessage(group, { body: { type: "text", body: reply } });
  const back = await native.call("decrypt", { group_id: hex(group), ciphertext: hex(ct), now_ms: now() });
  assert.equal(back.kind, "message");
  assert.equal(back.text, reply);
  assert.equal(back.sender.user_id, wasmUser);
  return ct;
}

/** Native -> wasm and wasm -> native SFrame frame; both sides use the group's own keys. */
async function framesBothWays(group, native, nativeLeaf, wasm, wasmLeaf) {
  const payload = utf8(`a video frame ${Math.random()}`);
  const metadata = utf8("vp8-hdr");
  const { frame } = await native.call("encrypt_frame", {
    group_id: hex(group),
    payload: hex(payload),
    metadata: hex(metadata),
    stream: 1,
  });
  // The metadata is authenticated (and a failed attempt does not burn the frame's counter).
  assertTingError(() => wasm.decryptFrame(group, now(), utf8("vp8-hdX"), unhex(frame)), ["tampered"]);
  const dec = wasm.decryptFrame(group, now(), metadata, unhex(frame));
  assert.deepEqual(dec.payload, payload);
  assert.equal(dec.senderLeaf, nativeLeaf);
  assert.equal(dec.epoch, wasm.epoch(group));
  assertTingError(() => wasm.decryptFrame(group, now(), metadata, unhex(frame)), ["replayed"]);

  const wasmFrame = wasm.encryptFrame(group, 0, NO_META, payload);
  const nat = await native.call("decrypt_frame", { group_id: hex(group), frame: hex(wasmFrame), now_ms: now() });
  assert.equal(nat.payload, hex(payload));
  assert.equal(nat.sender_leaf, wasmLeaf);
  // A worker-side TingMediaKeys fed with the exported epoch decrypts native frames too.
  const worker = new TingMediaKeys();
  worker.setEpoch(now(), wasm.mediaEpoch(group));
  assert.equal(worker.keyFingerprint, wasm.mediaKeyFingerprint(group));
  const { frame: f2 } = await native.call("encrypt_frame", { group_id: hex(group), payload: hex(payload) });
  assert.deepEqual(worker.decryptFrame(now(), NO_META, unhex(f2)).payload, payload);
  worker.free();
}

test("native creates the group and adds a wasm member", async (t) => {
  const group = utf8("room-native-first");
  const alice = new NativePeer("native alice");
  const carol = new NativePeer("native carol");
  const bob = certified("bob@wasm");
  t.after(async () => {
    await alice.quit();
    await carol.quit();
  });
  await alice.call("init", { user_id: "alice@native" });
  await carol.call("init", { user_id: "carol@native" });

  // Alice adds Bob (wasm) and Carol (native) in one commit; both join from the same welcome.
  const [bobKp] = bob.keyPackages(1);
  const { key_packages: [carolKp] } = await carol.call("key_package");
  await alice.call("create_group", { group_id: hex(group) });
  const added = await alice.call("add", { group_id: hex(group), key_packages: [hex(bobKp), carolKp] });
  assert.equal(added.epoch, 1);
  assert.ok(added.welcome, "a welcome for the new members");
  const joined = bob.join(unhex(added.welcome));
  assert.deepEqual(joined.groupId, group);
  assert.equal(joined.epoch, 1);
  assert.equal(joined.addedBy.userId, "alice@native");
  await carol.call("join", { welcome: added.welcome });

  const wasms = [["bob", bob]];
  const epoch1 = await assertSameEpoch(group, [alice, carol], wasms);
  const bobLeaf = bob.ownLeafIndex(group);

  // Safety numbers agree across implementations.
  const sn = await alice.call("safety_number", { group_id: hex(group), user_id: "bob@wasm" });
  assert.equal(bob.safetyNumber(group, "alice@native").display, sn.digits);

  // Chat both ways; Carol reads Bob's message too.
  const fromBob = await chatBothWays(group, alice, "alice@native", bob, "bob@wasm", "epoch 1");
  const carolGot = await carol.call("decrypt", { group_id: hex(group), ciphertext: hex(fromBob) });
  assert.equal(carolGot.text, "wasm->native epoch 1 ✓");
  await framesBothWays(group, alice, 0, bob, bobLeaf);

  // A commit created in wasm (Bob's key update) is processed natively.
  const upd = bob.selfUpdate(group);
  bob.mergePendingCommit(group, now());
  for (const n of [alice, carol]) {
    const r = await n.call("decrypt", { group_id: hex(group), ciphertext: hex(upd.commit) });
    assert.equal(r.kind, "commit");
    assert.equal(r.committer.user_id, "bob@wasm");
  }
  const epoch2 = await assertSameEpoch(group, [alice, carol], wasms);
  assert.equal(epoch2.epoch, 2);
  assert.notEqual(epoch2.fingerprint, epoch1.fingerprint, "new epoch, new media keys");
  await chatBothWays(group, alice, "alice@native", bob, "bob@wasm", "epoch 2");
  await framesBothWays(group, alice, 0, bob, bobLeaf);

  // Alice removes Bob. Keep a stale copy of Bob that never sees the removal.
  const storageKey = crypto.getRandomValues(new Uint8Array(32));
  const staleBob = TingClient.load(bob.save(storageKey), storageKey);
  const removal = await alice.call("remove", { group_id: hex(group), leaf_indices: [bobLeaf] });
  assert.equal(removal.epoch, 3);
  assert.equal((await carol.call("decrypt", { group_id: hex(group), ciphertext: removal.commit })).kind, "commit");
  const seen = bob.handleMessage(group, unhex(removal.commit), now());
  assert.equal(seen.type, "commit");
  assert.equal(seen.removedSelf, true);
  assert.deepEqual(seen.change.removed.map((m) => m.userId), ["bob@wasm"]);
  assert.equal(bob.hasGroup(group), false);
  await assertSameEpoch(group, [alice, carol], []);

  // After removal: Carol reads Alice's message and frame; neither Bob can.
  const { ciphertext } = await alice.call("encrypt", { group_id: hex(group), text: "bob is gone" });
  assert.equal((await carol.call("decrypt", { group_id: hex(group), ciphertext })).text, "bob is gone");
  assertTingError(() => bob.handleMessage(group, unhex(ciphertext), now()), ["unknown_group"]);
  assertTingError(() => staleBob.handleMessage(group, unhex(ciphertext), now()));
  const { frame } = await alice.call("encrypt_frame", { group_id: hex(group), payload: hex(utf8("secret frame")) });
  const carolFrame = await carol.call("decrypt_frame", { group_id: hex(group), frame, now_ms: now() });
  assert.equal(carolFrame.payload, hex(utf8("secret frame")));
  assertTingError(() => bob.decryptFrame(group, now(), NO_META, unhex(frame)), ["unknown_group"]);
  assertTingError(() => staleBob.decryptFrame(group, now(), NO_META, unhex(frame)), ["unknown_epoch", "tampered"]);
  assert.notEqual(staleBob.mediaKeyFingerprint(group), (await carol.call("sframe_key_fingerprint", { group_id: hex(group) })).fingerprint);
  bob.free();
  staleBob.free();
});

test("wasm creates the group and adds a native member", async (t) => {
  const group = utf8("room-wasm-first");
  const alice = certified("alice@wasm");
  const carol = certified("carol@wasm");
  const bob = new NativePeer("native bob");
  t.after(() => bob.quit());
  await bob.call("init", { user_id: "bob@native" });

  // Alice (wasm) adds Bob (native) and Carol (wasm) in one commit.
  alice.createGroup(group);
  const { key_packages: [bobKp] } = await bob.call("key_package");
  const info = alice.inspectKeyPackage(unhex(bobKp));
  assert.equal(info.userId, "bob@native");
  const bundle = alice.addMembers(group, [unhex(bobKp), ...carol.keyPackages(1)]);
  assert.equal(bundle.epoch, 0);
  assert.deepEqual(bundle.change.added.map((m) => m.userId).sort(), ["bob@native", "carol@wasm"]);
  assert.equal(alice.hasPendingCommit(group), true);
  alice.mergePendingCommit(group, now());
  const joined = await bob.call("join", { welcome: hex(bundle.welcome) });
  assert.equal(joined.group_id, hex(group));
  assert.equal(joined.added_by.user_id, "alice@wasm");
  carol.join(bundle.welcome);

  const wasms = [["alice", alice], ["carol", carol]];
  const epoch1 = await assertSameEpoch(group, [bob], wasms);
  assert.equal(epoch1.epoch, 1);
  const bobLeaf = joined.members.find((m) => m.user_id === "bob@native").leaf_index;

  const sn = await bob.call("safety_number", { group_id: hex(group), user_id: "alice@wasm" });
  assert.equal(alice.safetyNumber(group, "bob@native").display, sn.digits);

  // Chat both ways; the other wasm member reads the native message.
  const { ciphertext } = await bob.call("encrypt", { group_id: hex(group), text: "hello from native" });
  for (const w of [alice, carol]) {
    const r = w.handleMessage(group, unhex(ciphertext), now());
    assert.equal(r.type, "message");
    assert.deepEqual(r.envelope.body, { type: "text", body: "hello from native" });
  }
  const ct = alice.encryptMessage(group, { body: { type: "text", body: "hello from wasm" } });
  assert.equal((await bob.call("decrypt", { group_id: hex(group), ciphertext: hex(ct) })).text, "hello from wasm");
  assert.equal(carol.handleMessage(group, ct, now()).envelope.body.body, "hello from wasm");
  // Non-text bodies travel too (a reaction to the native message, JSON form).
  const react = alice.encryptMessageJson(group, JSON.stringify({ body: { type: "reaction", target: "00".repeat(16), emoji: "👍" } }));
  const reacted = await bob.call("decrypt", { group_id: hex(group), ciphertext: hex(react) });
  assert.equal(reacted.kind, "message");
  assert.ok(reacted.body, "non-text body is reported");
  carol.handleMessage(group, react, now());

  await framesBothWays(group, bob, bobLeaf, alice, alice.ownLeafIndex(group));
  await framesBothWays(group, bob, bobLeaf, carol, carol.ownLeafIndex(group));

  // A commit created natively (Bob's key update) is processed by both wasm members.
  const upd = await bob.call("self_update", { group_id: hex(group) });
  for (const w of [alice, carol]) {
    const r = w.handleMessage(group, unhex(upd.commit), now());
    assert.equal(r.type, "commit");
    assert.equal(r.committer.userId, "bob@native");
    assert.equal(r.epoch, 2);
  }
  const epoch2 = await assertSameEpoch(group, [bob], wasms);
  assert.notEqual(epoch2.fingerprint, epoch1.fingerprint);

  // Alice (wasm) removes Bob (native). Save Bob's state first to get a stale copy later.
  const storageKey = hex(crypto.getRandomValues(new Uint8Array(32)));
  const { blob } = await bob.call("save", { storage_key: storageKey });
  const removal = alice.removeUser(group, "bob@native");
  assert.equal(removal.welcome, null);
  assert.deepEqual(removal.change.removed.map((m) => m.userId), ["bob@native"]);
  alice.mergePendingCommit(group, now());
  assert.equal(carol.handleMessage(group, removal.commit, now()).type, "commit");
  const seen = await bob.call("decrypt", { group_id: hex(group), ciphertext: hex(removal.commit) });
  assert.equal(seen.kind, "commit");
  assert.equal(seen.removed_self, true);
  await assertSameEpoch(group, [], wasms);

  // After removal: Carol reads Alice's message and frame; Bob cannot, neither after processing
  // his removal nor from the stale state that never saw it.
  const after = alice.encryptMessage(group, { body: { type: "text", body: "bob is gone" } });
  const frame = alice.encryptFrame(group, 0, NO_META, utf8("secret frame"));
  assert.equal(carol.handleMessage(group, after, now()).envelope.body.body, "bob is gone");
  assert.deepEqual(carol.decryptFrame(group, now(), NO_META, frame).payload, utf8("secret frame"));
  await assertNativeFails(bob.call("decrypt", { group_id: hex(group), ciphertext: hex(after) }));
  await assertNativeFails(bob.call("decrypt_frame", { group_id: hex(group), frame: hex(frame) }));
  await bob.call("load", { storage_key: storageKey, blob });
  assert.equal((await bob.call("epoch", { group_id: hex(group) })).epoch, 2, "stale copy is still at epoch 2");
  await assertNativeFails(bob.call("decrypt", { group_id: hex(group), ciphertext: hex(after) }));
  await assertNativeFails(bob.call("decrypt_frame", { group_id: hex(group), frame: hex(frame), now_ms: now() }));
  alice.free();
  carol.free();
});

test("wasm-only: state blob, files and errors", () => {
  const group = "room-wasm-only";
  const a = certified("a");
  const b = certified("b");
  a.createGroup(group);
  const { welcome } = a.addMembers(group, b.keyPackages(1));
  a.mergePendingCommit(group, now());
  b.join(welcome);

  // Encrypted state round trip; a wrong key is refused with a stable code.
  const key = crypto.getRandomValues(new Uint8Array(32));
  const blob = b.save(key);
  assert.ok(blob instanceof Uint8Array);
  const b2 = TingClient.load(blob, key);
  assert.equal(b2.epoch(group), 1);
  assert.equal(b2.deviceKey, b.deviceKey);
  assertTingError(() => TingClient.load(blob, new Uint8Array(32)), ["state_decryption"]);
  assertTingError(() => TingClient.load(blob, new Uint8Array(5)), ["invalid_argument"]);

  // Streaming file encryption, fed in odd-sized pieces; the FileRef travels in a message.
  const data = crypto.getRandomValues(new Uint8Array(5000));
  const enc = new web.TingFileEncryptor(1024);
  const parts = [enc.update(data.subarray(0, 777)), enc.update(data.subarray(777))];
  const { chunk, fileRef } = enc.finish("blob-1", "photo.jpg", "image/jpeg");
  const ciphertext = Buffer.concat([...parts, chunk]);
  assert.equal(fileRef.size, 5000);
  const msg = a.encryptMessage(group, { body: { type: "file", file: fileRef } });
  const got = b2.handleMessage(group, msg, now());
  assert.deepEqual(got.envelope.body.file, fileRef);
  const dec = new web.TingFileDecryptor(got.envelope.body.file);
  const out = Buffer.concat([dec.update(ciphertext.subarray(0, 3000)), dec.update(ciphertext.subarray(3000))]);
  dec.finish();
  assert.deepEqual(new Uint8Array(out), data);
  const bad = new web.TingFileDecryptor(fileRef);
  const tampered = Buffer.from(ciphertext);
  tampered[10] ^= 1;
  assertTingError(() => bad.update(tampered), ["tampered"]);
  const short = new web.TingFileDecryptor(fileRef);
  short.update(ciphertext.subarray(0, 1040));
  assertTingError(() => short.finish(), ["file_integrity", "file_stream"]);

  // Errors carry stable codes.
  assertTingError(() => a.epoch("no-such-room"), ["unknown_group"]);
  assertTingError(() => a.createGroup(group), ["group_exists"]);
  assertTingError(() => a.epoch(42), ["invalid_argument"]);
  assertTingError(() => a.encryptMessage(group, { body: { type: "nope" } }), ["invalid_argument"]);
  assertTingError(() => b.handleMessage(group, new Uint8Array([1, 2, 3]), now()), ["malformed"]);
  assertTingError(() => a.mergePendingCommit(group, now()), ["no_pending_commit"]);
  assertTingError(() => a.mergePendingCommit(group, NaN), ["invalid_argument"]);
  assert.equal(typeof web.version(), "string");
});

test("wasm-only: identities, device linking and pins", () => {
  const first = certified("dana");
  assert.ok(first.certified && first.hasMasterKey());
  const second = new TingClient("dana");
  assert.equal(second.certified, false);
  assertTingError(() => second.keyPackages(1), ["not_certified"]);

  // The new device's request, the code it shows, the existing device's check and approval.
  const request = second.linkRequest("dana/second", now(), 60_000);
  const code = second.linkCode("0123456789abcdef");
  assert.equal(rendezvousOf(code), "0123456789abcdef");
  const last = code.at(-1);
  assertTingError(() => first.linkPreview(code.slice(0, -1) + (last === "0" ? "1" : "0"), request, now()), ["link"]);
  const preview = first.linkPreview(code, request, now());
  assert.equal(preview.deviceId, "dana/second");
  assert.equal(preview.deviceFingerprint, second.ownDeviceFingerprint());
  const record = second.linkComplete(first.linkApprove(code, request, now()), now());
  const parsed = inspectKeyLogRecord(record);
  assert.equal(parsed.kind, "device");
  assert.equal(parsed.deviceId, "dana/second");
  assert.equal(parsed.identityKey, first.identityKey);
  assert.equal(second.identityKey, first.identityKey);
  assert.equal(second.keyPackages(1).length, 1);

  // Pins: first use, verification, and no block while the key stays the same.
  const eve = certified("eve");
  const group = "room-identities";
  first.createGroup(group);
  const { welcome } = first.addMembers(group, [...eve.keyPackages(1), ...second.keyPackages(1)]);
  first.mergePendingCommit(group, now());
  const joined = eve.join(welcome);
  assert.deepEqual(joined.alerts, []);
  assert.ok(joined.members.every((m) => m.identityKey && m.deviceId));
  assert.equal(first.pin("eve").identityKey, eve.identityKey);
  assert.equal(eve.pin("dana").identityKey, first.identityKey);
  first.markVerified("eve", eve.identityKey);
  assert.equal(first.pin("eve").verified, true);
  assert.deepEqual(first.blockedBy(group), []);
  assertTingError(() => first.markVerified("eve", first.identityKey), ["identity_changed"]);
  for (const c of [first, second, eve]) c.free();
});
