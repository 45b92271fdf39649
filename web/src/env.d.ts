/// <reference types="vite/client" />

declare module "virtual:ting-wasm-integrity" {
  /** `sha384-…` of the crypto module, for `fetch(url, { integrity })`. */
  const integrity: string;
  export default integrity;
}
