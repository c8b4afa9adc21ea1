// Builds the ECharts bundle of the dashboards into dashboards/assets/vendor,
// where the Go server embeds it: esbuild (pinned by package-lock.json)
// bundles echarts-entry.js, which imports from echarts' tree-shakeable
// modules only the charts, components and renderer the pages use, and
// minifies it. The brotli (quality 11) and gzip (level 9) forms are
// written beside it: the bundle is compressed once, at build time, not by
// every server process. Run by `npm install` (postinstall) and by
// `make assets`.
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const esbuild = require("esbuild");

const entry = path.join(__dirname, "echarts-entry.js");
const dstDir = path.join(__dirname, "..", "assets", "vendor");
const dst = path.join(dstDir, "echarts.min.js");
fs.mkdirSync(dstDir, { recursive: true });

const result = esbuild.buildSync({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2017"],
  platform: "browser",
  // echarts guards its development warnings with __DEV__; the release
  // build drops them.
  define: { __DEV__: "false", "process.env.NODE_ENV": '"production"' },
  legalComments: "eof",
  // V8's explicit compile hint: the bundle's functions are compiled
  // eagerly while the script streams in (off the main thread), instead of
  // one by one on first call in the task that draws the first chart,
  // where compiling them took about half of that task.
  banner: { js: "//# allFunctionsCalledOnLoad" },
  write: false,
  logLevel: "warning",
});
const body = Buffer.from(result.outputFiles[0].contents);
fs.writeFileSync(dst, body);
const br = zlib.brotliCompressSync(body, {
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
  },
});
const gz = zlib.gzipSync(body, { level: 9 });
fs.writeFileSync(dst + ".br", br);
fs.writeFileSync(dst + ".gz", gz);
console.log("built " + path.relative(process.cwd(), dst) + " from " + path.basename(entry) +
  ": " + body.length + " B (" + br.length + " B brotli, " + gz.length + " B gzip)");
