// Build of Ting's browser app. Two small plugins keep the output fit for Ting's strict CSP:
// - `subresourceIntegrity` adds `integrity="sha384-…"` and `crossorigin` to every script,
//   stylesheet and modulepreload link of dist/index.html, computed from the emitted files;
// - `wasmIntegrity` exposes the SHA-384 of the crypto module (`virtual:ting-wasm-integrity`)
//   so the crypto worker can load it with `fetch(url, { integrity })`.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";

const WASM = resolve(import.meta.dirname, "pkg/ting_web_bg.wasm");
const WASM_VIRTUAL = "virtual:ting-wasm-integrity";

function sha384(data: string | Uint8Array): string {
  return "sha384-" + createHash("sha384").update(data).digest("base64");
}

function wasmIntegrity(): Plugin {
  const resolved = "\0" + WASM_VIRTUAL;
  return {
    name: "ting-wasm-integrity",
    resolveId(id) {
      return id === WASM_VIRTUAL ? resolved : null;
    },
    load(id) {
      if (id !== resolved) return null;
      if (!existsSync(WASM)) {
        this.error("web/pkg/ting_web_bg.wasm is missing: run scripts/build-wasm.sh first");
      }
      this.addWatchFile(WASM);
      return `export default ${JSON.stringify(sha384(readFileSync(WASM)))};`;
    },
  };
}

function subresourceIntegrity(): Plugin {
  let outDir = "dist";
  return {
    name: "ting-subresource-integrity",
    apply: "build",
    enforce: "post",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    writeBundle(_options, bundle) {
      const htmlPath = join(outDir, "index.html");
      if (!existsSync(htmlPath)) return;
      const files = new Map<string, string | Uint8Array>();
      for (const [name, out] of Object.entries(bundle)) {
        files.set("/" + name, out.type === "chunk" ? out.code : out.source);
      }
      const tag = /<(script|link)\b[^>]*>/g;
      const html = readFileSync(htmlPath, "utf8").replace(tag, (element: string, kind: string) => {
        const rel = /\brel="([^"]+)"/.exec(element)?.[1];
        if (kind === "link" && rel !== "stylesheet" && rel !== "modulepreload") return element;
        const src = /\b(?:src|href)="([^"]+)"/.exec(element)?.[1];
        if (!src || /^[a-z]+:/i.test(src)) return element;
        const body = files.get(src) ?? (existsSync(join(outDir, src)) ? readFileSync(join(outDir, src)) : undefined);
        if (body === undefined) this.error(`subresource integrity: ${src} is not in the bundle`);
        let out = element.replace(/\s(?:integrity|crossorigin)(?:="[^"]*")?/g, "");
        out = out.replace(/\s*\/?>$/, (end) => ` integrity="${sha384(body)}" crossorigin="anonymous"${end.trim() === "/>" ? " />" : ">"}`);
        return out;
      });
      writeFileSync(htmlPath, html);
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [wasmIntegrity(), subresourceIntegrity()],
  worker: {
    format: "es",
    plugins: () => [wasmIntegrity()],
  },
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    assetsInlineLimit: 0,
    target: "es2022",
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 4096,
  },
  server: {
    proxy: {
      "/api": { target: process.env.TING_DEV_SERVER ?? "http://127.0.0.1:8080", ws: true },
    },
  },
  preview: {
    proxy: {
      "/api": { target: process.env.TING_DEV_SERVER ?? "http://127.0.0.1:8080", ws: true },
    },
  },
});
