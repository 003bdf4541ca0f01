#!/usr/bin/env node
// A native-solc look-alike around the pinned solc-js (npm `solc`).
//
// Why: no solc download is possible on air-gapped machines, and the `solcjs`
// CLI cannot be driven by py-solc-x, ape-solidity or crytic-compile (it prints
// a line before its JSON and takes other flags). This entry point answers the
// subset of the native command line those tools use:
//
//   solc --version
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths A,B]
//   solc --combined-json abi,bin,... [--base-path P] [--allow-paths ...] [remap=...] FILE...
//
// Imports are read from disk like native solc: relative to the base path, then
// each include path, and only inside the base path, include paths and allowed
// paths. Output goes to stdout; usage errors go to stderr with exit code 1.
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(1);
}

function loadSolc() {
  // Resolve `solc` from the project that holds this file, whatever the cwd.
  const projectRoot = path.resolve(__dirname, '..', '..');
  try {
    return require(require.resolve('solc', { paths: [projectRoot, process.cwd()] }));
  } catch (err) {
    fail(`solc-js is not installed (${err.message}). Run 'npm ci' in ${projectRoot}.`);
  }
  return undefined;
}

function parseArgs(argv) {
  const opts = {
    mode: null,
    basePath: null,
    includePaths: [],
    allowPaths: [],
    combined: null,
    files: [],
    remappings: [],
    optimize: false,
    optimizeRuns: 200,
    evmVersion: null,
  };
  const takeValue = (i, flag) => {
    if (i + 1 >= argv.length) fail(`${flag} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inlineValue = null;
    if (arg.startsWith('--') && arg.includes('=')) {
      inlineValue = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    }
    const value = () => {
      if (inlineValue !== null) return inlineValue;
      const v = takeValue(i, arg);
      i += 1;
      return v;
    };
    switch (arg) {
      case '--version':
      case '-v':
        opts.mode = 'version';
        break;
      case '--standard-json':
        opts.mode = 'standard-json';
        break;
      case '--combined-json':
        opts.mode = 'combined-json';
        opts.combined = value().split(',').map((s) => s.trim()).filter(Boolean);
        break;
      case '--base-path':
        opts.basePath = value();
        break;
      case '--include-path':
        opts.includePaths.push(value());
        break;
      case '--allow-paths':
        opts.allowPaths.push(...value().split(',').filter(Boolean));
        break;
      case '--optimize':
        opts.optimize = true;
        break;
      case '--optimize-runs':
        opts.optimizeRuns = Number(value());
        break;
      case '--evm-version':
        opts.evmVersion = value();
        break;
      case '--no-color':
      case '--pretty-json':
      case '--json-indent':
        break;
      case '--help':
      case '-h':
        opts.mode = 'help';
        break;
      default:
        if (arg.startsWith('--')) fail(`unsupported option ${arg} (this is the Node-backed solc; see tools/solc/solc.cjs)`);
        if (arg.includes('=') && !arg.startsWith('/')) opts.remappings.push(arg);
        else opts.files.push(arg);
    }
  }
  return opts;
}

function makeReader(opts) {
  const base = path.resolve(opts.basePath || process.cwd());
  const includes = opts.includePaths.map((p) => path.resolve(p));
  const allowed = [base, ...includes, ...opts.allowPaths.map((p) => path.resolve(p))];
  const inside = (file) => allowed.some((dir) => file === dir || file.startsWith(dir + path.sep));
  return function findImports(sourceUnit) {
    const candidates = path.isAbsolute(sourceUnit)
      ? [sourceUnit]
      : [base, ...includes].map((dir) => path.join(dir, sourceUnit));
    for (const candidate of candidates) {
      const file = path.resolve(candidate);
      if (!inside(file)) continue;
      if (fs.existsSync(file) && fs.statSync(file).isFile()) {
        return { contents: fs.readFileSync(file, 'utf8') };
      }
    }
    return { error: `File not found inside the base path or any of the include paths: ${sourceUnit}` };
  };
}

function readStdin() {
  try {
    return fs.readFileSync(0, 'utf8');
  } catch (err) {
    fail(`cannot read standard input: ${err.message}`);
  }
  return '';
}

function standardJson(solc, opts) {
  const input = readStdin();
  const output = solc.compile(input, { import: makeReader(opts) });
  process.stdout.write(output + '\n');
}

// Map `--combined-json` keys to standard-JSON output selections.
const COMBINED = {
  abi: ['abi'],
  bin: ['evm.bytecode.object'],
  'bin-runtime': ['evm.deployedBytecode.object'],
  srcmap: ['evm.bytecode.sourceMap'],
  'srcmap-runtime': ['evm.deployedBytecode.sourceMap'],
  userdoc: ['userdoc'],
  devdoc: ['devdoc'],
  hashes: ['evm.methodIdentifiers'],
  metadata: ['metadata'],
  'storage-layout': ['storageLayout'],
  opcodes: ['evm.bytecode.opcodes'],
  asm: ['evm.legacyAssembly'],
};

function combinedJson(solc, opts) {
  if (opts.files.length === 0) fail('--combined-json needs at least one source file');
  const base = path.resolve(opts.basePath || process.cwd());
  const sources = {};
  for (const file of opts.files) {
    const abs = path.resolve(file);
    if (!fs.existsSync(abs)) fail(`"${file}" is not found.`);
    let unit = path.relative(base, abs);
    if (unit.startsWith('..')) unit = abs;
    sources[unit] = { content: fs.readFileSync(abs, 'utf8') };
  }
  const keys = opts.combined.filter((k) => k !== 'compact-format' && k !== 'ast');
  const selection = new Set();
  for (const key of keys) {
    if (!COMBINED[key]) fail(`unsupported --combined-json key "${key}"`);
    COMBINED[key].forEach((s) => selection.add(s));
  }
  const settings = {
    remappings: opts.remappings,
    optimizer: { enabled: opts.optimize, runs: opts.optimizeRuns },
    outputSelection: { '*': { '*': [...selection], '': ['ast'] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  const input = { language: 'Solidity', sources, settings };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: makeReader({ ...opts, allowPaths: [...opts.allowPaths, base] }) }));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  for (const e of out.errors || []) process.stderr.write((e.formattedMessage || e.message) + '\n');
  if (errors.length) process.exit(1);

  const get = (obj, dotted) => dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
  const contracts = {};
  for (const [unit, byName] of Object.entries(out.contracts || {})) {
    for (const [name, c] of Object.entries(byName)) {
      const entry = {};
      for (const key of keys) entry[key] = get(c, COMBINED[key][0]);
      contracts[`${unit}:${name}`] = entry;
    }
  }
  const sourceList = Object.keys(out.sources || {});
  const srcOut = {};
  for (const unit of sourceList) srcOut[unit] = { AST: out.sources[unit].ast, id: out.sources[unit].id };
  process.stdout.write(JSON.stringify({ contracts, sourceList, sources: srcOut, version: solc.version() }) + '\n');
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === 'help' || opts.mode === null) {
    process.stdout.write('solc (Node-backed, solc-js): --version | --standard-json | --combined-json KEYS FILE...\n');
    process.exit(opts.mode === 'help' ? 0 : 1);
  }
  const solc = loadSolc();
  if (opts.mode === 'version') {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (opts.mode === 'standard-json') return standardJson(solc, opts);
  return combinedJson(solc, opts);
}

main();
