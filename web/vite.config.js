// Vite builds the UI into the Python package, where mastplan.web serves it at "/".
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const outDir = fileURLToPath(new URL("../src/mastplan/web/static", import.meta.url));
const here = dirname(fileURLToPath(import.meta.url));

/**
 * The offline API docs page (mastplan.web serves it at /api/v1/docs): Swagger UI's bundle,
 * style and icon copied from the npm package swagger-ui-dist (pinned in package.json and the
 * lock file) into assets/ under content-hashed names, our init script beside them, and
 * api-docs.html naming them all. Nothing of it is loaded from a CDN.
 */
function apiDocsPage() {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve("swagger-ui-dist/package.json"));
  const withoutSourceMap = (text) => text.replace(/\n?\/[/*]# sourceMappingURL=\S+\s*(\*\/)?\s*$/, "\n");
  const files = {
    BUNDLE: ["swagger-ui-bundle.js", () => withoutSourceMap(readFileSync(join(dist, "swagger-ui-bundle.js"), "utf8"))],
    CSS: ["swagger-ui.css", () => withoutSourceMap(readFileSync(join(dist, "swagger-ui.css"), "utf8"))],
    FAVICON: ["swagger-ui-favicon.png", () => readFileSync(join(dist, "favicon-32x32.png"))],
    INIT: ["api-docs.js", () => readFileSync(join(here, "src/api-docs/init.js"), "utf8")],
  };
  const refs = {};
  return {
    name: "mastplan-api-docs",
    apply: "build",
    buildStart() {
      for (const [key, [name, read]] of Object.entries(files)) {
        refs[key] = this.emitFile({ type: "asset", name, source: read() });
      }
    },
    generateBundle() {
      let page = readFileSync(join(here, "src/api-docs/page.html"), "utf8");
      for (const key of Object.keys(files)) page = page.replaceAll(`%${key}%`, `/${this.getFileName(refs[key])}`);
      this.emitFile({ type: "asset", fileName: "api-docs.html", source: page });
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [apiDocsPage()],
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
