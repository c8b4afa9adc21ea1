// Copies the echarts build from node_modules into dashboards/assets/vendor,
// where the Go server embeds it. Run by `npm install` (postinstall) and by
// `make assets`.
"use strict";
const fs = require("fs");
const path = require("path");

const src = path.join(__dirname, "node_modules", "echarts", "dist", "echarts.min.js");
const dstDir = path.join(__dirname, "..", "assets", "vendor");
fs.mkdirSync(dstDir, { recursive: true });
fs.copyFileSync(src, path.join(dstDir, "echarts.min.js"));
console.log("copied " + path.relative(process.cwd(), src) + " -> " + path.relative(process.cwd(), path.join(dstDir, "echarts.min.js")));
