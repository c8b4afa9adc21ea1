// Copies the echarts build from node_modules into dashboards/assets/vendor,
// where the Go server embeds it, with its brotli (quality 11) and gzip
// (level 9) forms beside it: a large file is compressed once, at build
// time, not by every server process. Run by `npm install` (postinstall)
// and by `make assets`.
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const src = path.join(__dirname, "node_modules", "echarts", "dist", "echarts.min.js");
const dstDir = path.join(__dirname, "..", "assets", "vendor");
const dst = path.join(dstDir, "echarts.min.js");
fs.mkdirSync(dstDir, { recursive: true });
const body = fs.readFileSync(src);
fs.writeFileSync(dst, body);
fs.writeFileSync(dst + ".br", zlib.brotliCompressSync(body, {
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
  },
}));
fs.writeFileSync(dst + ".gz", zlib.gzipSync(body, { level: 9 }));
console.log("copied " + path.relative(process.cwd(), src) + " -> " + path.relative(process.cwd(), dst) + " (+ .br, .gz)");
