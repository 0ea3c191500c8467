// Vite builds the UI into the Python package, where mastplan.web serves it at "/".
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const outDir = fileURLToPath(new URL("../src/mastplan/web/static", import.meta.url));

export default defineConfig({
  base: "/",
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // Leaflet's images are inlined below this size; nothing is fetched from outside.
    assetsInlineLimit: 8192,
  },
  server: {
    // `npm run dev` against a `mastplan serve --insecure-cookies` on port 8000
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/web-config.json": "http://127.0.0.1:8000",
    },
  },
});
