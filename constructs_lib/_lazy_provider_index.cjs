// The Node half of the lazy provider import (see _provider_import.py).
//
// The jsii runtime loads the provider assembly with require(), and the
// package's lib/index.js requires all of its ~2,100 modules (~250 MB of
// JavaScript) to bind them as exports: about 2 s of V8 parsing per synth,
// most of the lazy path's remaining cost. Preloaded with `node --require`,
// this file compiles that one index as lazy getters instead, so a module is
// required the first time jsii looks a type up in it (`exports.vpc.Vpc`).
//
// Only an index made entirely of the shapes `cdktf get` generates is
// rewritten; anything else is loaded the normal way.
"use strict";

const fs = require("fs");
const Module = require("module");
const path = require("path");

const PACKAGE_NAME = "@cdktf/provider-aws";
const REQUIRE_LINE = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/;
const OTHER_LINES = [
  /^"use strict";$/,
  /^\/\*\*$/,
  /^ \*( .*)?$/,
  /^ \*\/$/,
  /^\/\/.*$/,
  /^Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);$/,
  /^(exports\.[A-Za-z_$][\w$]* = )+void 0;$/,
];

function isProviderIndex(filename) {
  if (path.basename(filename) !== "index.js" || path.basename(path.dirname(filename)) !== "lib") {
    return false;
  }
  try {
    const manifest = path.join(path.dirname(path.dirname(filename)), "package.json");
    return JSON.parse(fs.readFileSync(manifest, "utf8")).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** The [name, specifier] pairs of a generated index, or null if it has any other statement. */
function parseIndex(source) {
  const bindings = [];
  for (const line of source.split("\n")) {
    const trimmed = line.trimEnd();
    const match = REQUIRE_LINE.exec(trimmed);
    if (match) {
      bindings.push([match[1], match[2]]);
    } else if (trimmed !== "" && !OTHER_LINES.some((shape) => shape.test(trimmed))) {
      return null;
    }
  }
  return bindings.length > 0 ? bindings : null;
}

function defineLazyExports(module, bindings) {
  const exports = module.exports;
  Object.defineProperty(exports, "__esModule", { value: true });
  for (const [name, specifier] of bindings) {
    Object.defineProperty(exports, name, {
      configurable: true,
      enumerable: true,
      get() {
        const value = module.require(specifier);
        Object.defineProperty(exports, name, { value, configurable: true, enumerable: true, writable: true });
        return value;
      },
    });
  }
}

const loadJs = Module._extensions[".js"];
Module._extensions[".js"] = function loadMaybeLazily(module, filename) {
  if (isProviderIndex(filename)) {
    const bindings = parseIndex(fs.readFileSync(filename, "utf8"));
    if (bindings !== null) {
      defineLazyExports(module, bindings);
      return;
    }
  }
  return loadJs(module, filename);
};
