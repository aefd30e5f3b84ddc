// Runs the wasm32-wasip1 build of the profiler under Node's WASI, i.e. in V8 like the
// filter in Envoy:  node run-wasm.mjs PROFILE.wasm TOKENS_DIR [profiler args...]
// The profiler links jwt-guard, whose proxy-wasm entry points import host functions
// from "env"; they are never called here, so stubs satisfy the imports.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv, exit } from 'node:process';

const [wasmPath, tokensDir, ...rest] = argv.slice(2);
if (!wasmPath || !tokensDir) {
  console.error('usage: node run-wasm.mjs PROFILE.wasm TOKENS_DIR [args...]');
  exit(2);
}
const wasi = new WASI({ version: 'preview1', args: ['profile', '/tokens', ...rest], preopens: { '/tokens': tokensDir } });
const module = await WebAssembly.compile(await readFile(wasmPath));
const env = {};
for (const imp of WebAssembly.Module.imports(module)) {
  if (imp.module === 'env' && imp.kind === 'function') env[imp.name] = () => 0;
}
const instance = await WebAssembly.instantiate(module, { ...wasi.getImportObject(), env });
// The module exports both _start and _initialize (proxy-wasm's reactor entry); WASI.start
// refuses that combination, so hand it only what a command needs.
const { memory, _start } = instance.exports;
process.exitCode = wasi.start({ exports: { memory, _start } });
