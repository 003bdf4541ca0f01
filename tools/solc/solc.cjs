#!/usr/bin/env node
// A native-solc look-alike around the pinned solc-js (npm `solc`).
//
// Why: no solc download is possible on air-gapped machines, and the `solcjs`
// CLI cannot be driven by py-solc-x, ape-solidity or crytic-compile (it prints
// a line before its JSON and takes other flags). This entry point answers the
// subset of the native command line those tools use:
//
//   solc --version
//   solc --help                        (py-solc-x reads the --combined-json line)
//   solc --standard-json [FILE|-] [--base-path P] [--include-path P]... [--allow-paths A,B]
//   solc --combined-json abi,bin,... [options] [prefix=target]... FILE... | -
//        options: --base-path --include-path --allow-paths --optimize --optimize-runs N
//                 --evm-version V --via-ir --metadata-hash H --metadata-literal
//                 --revert-strings S --optimize-yul --no-optimize-yul --output-dir D --overwrite
//
// Imports are read from disk like native solc: relative to the base path, then
// each include path, and only inside the base path, include paths and allowed
// paths. Output goes to stdout; usage errors go to stderr with exit code 1.
// As with native solc, --standard-json exits 0 even when the sources have
// errors (they are in the JSON); --combined-json exits 1 on errors.
'use strict';

const fs = require('fs');
const path = require('path');

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

function fail(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(1);
}

function loadSolc() {
  // Resolve `solc` from the project that holds this file, whatever the cwd.
  try {
    return require(require.resolve('solc', { paths: [PROJECT_ROOT] }));
  } catch (err) {
    fail(`solc-js is not installed (${err.message.split('\n')[0]}). Run \`make setup\` (or \`npm ci\`) in ${PROJECT_ROOT}.`);
  }
  return undefined;
}

// Map `--combined-json` keys to standard-JSON output selections.
const COMBINED = {
  abi: 'abi',
  asm: 'evm.legacyAssembly',
  bin: 'evm.bytecode.object',
  'bin-runtime': 'evm.deployedBytecode.object',
  devdoc: 'devdoc',
  'function-debug': 'evm.bytecode.functionDebugData',
  'function-debug-runtime': 'evm.deployedBytecode.functionDebugData',
  'generated-sources': 'evm.bytecode.generatedSources',
  'generated-sources-runtime': 'evm.deployedBytecode.generatedSources',
  hashes: 'evm.methodIdentifiers',
  metadata: 'metadata',
  opcodes: 'evm.bytecode.opcodes',
  srcmap: 'evm.bytecode.sourceMap',
  'srcmap-runtime': 'evm.deployedBytecode.sourceMap',
  'storage-layout': 'storageLayout',
  userdoc: 'userdoc',
};
// Keys about sources rather than contracts, or about the output's shape.
const COMBINED_SPECIAL = new Set(['ast', 'compact-format']);

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
    optimizeYul: null,
    evmVersion: null,
    viaIR: false,
    metadataHash: null,
    metadataLiteral: false,
    revertStrings: null,
    outputDir: null,
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
      if (i + 1 >= argv.length) fail(`${arg} needs a value`);
      i += 1;
      return argv[i];
    };
    switch (arg) {
      case '--version':
      case '-v':
        opts.mode = 'version';
        break;
      case '--help':
      case '-h':
        opts.mode = 'help';
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
        if (!Number.isInteger(opts.optimizeRuns) || opts.optimizeRuns < 0) fail('--optimize-runs needs a non-negative integer');
        break;
      case '--optimize-yul':
        opts.optimizeYul = true;
        break;
      case '--no-optimize-yul':
        opts.optimizeYul = false;
        break;
      case '--evm-version':
        opts.evmVersion = value();
        break;
      case '--via-ir':
      case '--experimental-via-ir':
        opts.viaIR = true;
        break;
      case '--metadata-hash':
        opts.metadataHash = value();
        break;
      case '--metadata-literal':
        opts.metadataLiteral = true;
        break;
      case '--revert-strings':
        opts.revertStrings = value();
        break;
      case '--output-dir':
      case '-o':
        opts.outputDir = value();
        break;
      case '--overwrite':
      case '--no-color':
      case '--color':
      case '--pretty-json':
        break;
      case '--json-indent':
        value();
        break;
      case '-':
        opts.files.push('-');
        break;
      default:
        if (arg.startsWith('-')) fail(`unrecognised option '${arg}' (this is the Node-backed solc; see tools/solc/solc.cjs)`);
        if (arg.includes('=') && !fs.existsSync(arg)) opts.remappings.push(arg);
        else opts.files.push(arg);
    }
  }
  return opts;
}

function makeReader(opts, extraAllowed = []) {
  const base = path.resolve(opts.basePath || process.cwd());
  const includes = opts.includePaths.map((p) => path.resolve(p));
  const allowed = [base, ...includes, ...opts.allowPaths.map((p) => path.resolve(p)), ...extraAllowed];
  const inside = (file) => allowed.some((dir) => file === dir || file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep));
  return function findImports(sourceUnit) {
    const candidates = path.isAbsolute(sourceUnit)
      ? [sourceUnit]
      : [base, ...includes].map((dir) => path.join(dir, sourceUnit));
    for (const candidate of candidates) {
      const file = path.resolve(candidate);
      if (!inside(file)) continue;
      try {
        if (fs.statSync(file).isFile()) return { contents: fs.readFileSync(file, 'utf8') };
      } catch (err) {
        // not there: try the next root
      }
    }
    return { error: `File not found inside the base path or any of the include paths: ${sourceUnit}` };
  };
}

function readInput(file) {
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    fail(`cannot read ${file === '-' ? 'standard input' : file}: ${err.message}`);
  }
  return '';
}

function standardJson(solc, opts) {
  if (opts.files.length > 1) fail('--standard-json takes at most one input file');
  const input = readInput(opts.files[0] || '-');
  const output = solc.compile(input, { import: makeReader(opts) });
  process.stdout.write(output + '\n');
}

function combinedJson(solc, opts) {
  if (opts.files.length === 0) fail('--combined-json needs at least one source file (or - for standard input)');
  const base = path.resolve(opts.basePath || process.cwd());
  const sources = {};
  for (const file of opts.files) {
    if (file === '-') {
      sources['<stdin>'] = { content: readInput('-') };
      continue;
    }
    const abs = path.resolve(file);
    if (!fs.existsSync(abs)) fail(`"${file}" is not found.`);
    let unit = path.relative(base, abs).split(path.sep).join('/');
    if (unit.startsWith('..') || path.isAbsolute(unit)) unit = abs;
    sources[unit] = { content: fs.readFileSync(abs, 'utf8') };
  }
  const keys = opts.combined;
  const selection = new Set();
  for (const key of keys) {
    if (COMBINED_SPECIAL.has(key)) continue;
    if (!COMBINED[key]) fail(`Invalid option to --combined-json: ${key}`);
    selection.add(COMBINED[key]);
  }
  const optimizer = { enabled: opts.optimize, runs: opts.optimizeRuns };
  if (opts.optimizeYul !== null) optimizer.details = { yul: opts.optimizeYul };
  const settings = {
    remappings: opts.remappings,
    optimizer,
    outputSelection: { '*': { '*': [...selection], '': keys.includes('ast') ? ['ast'] : [] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  if (opts.viaIR) settings.viaIR = true;
  if (opts.metadataHash || opts.metadataLiteral) {
    settings.metadata = {};
    if (opts.metadataHash) settings.metadata.bytecodeHash = opts.metadataHash;
    if (opts.metadataLiteral) settings.metadata.useLiteralContent = true;
  }
  if (opts.revertStrings) settings.debug = { revertStrings: opts.revertStrings };
  const input = { language: 'Solidity', sources, settings };
  // Files named on the command line are allowed, like native solc does.
  const fileDirs = opts.files.filter((f) => f !== '-').map((f) => path.dirname(path.resolve(f)));
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: makeReader(opts, fileDirs) }));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  for (const e of out.errors || []) process.stderr.write((e.formattedMessage || e.message) + '\n');
  if (errors.length) process.exit(1);

  const get = (obj, dotted) => dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
  const contracts = {};
  for (const [unit, byName] of Object.entries(out.contracts || {})) {
    for (const [name, c] of Object.entries(byName)) {
      const entry = {};
      for (const key of keys) {
        if (COMBINED_SPECIAL.has(key)) continue;
        entry[key] = get(c, COMBINED[key]);
      }
      contracts[`${unit}:${name}`] = entry;
    }
  }
  const result = { contracts };
  if (keys.includes('ast')) {
    // Native solc lists sources by id; crytic-compile and py-solc-x read these fields.
    const units = Object.keys(out.sources || {}).sort((a, b) => out.sources[a].id - out.sources[b].id);
    result.sourceList = units;
    result.sources = {};
    for (const unit of units) result.sources[unit] = { AST: out.sources[unit].ast, id: out.sources[unit].id };
  }
  result.version = solc.version();
  const text = JSON.stringify(result);
  if (opts.outputDir) {
    fs.mkdirSync(opts.outputDir, { recursive: true });
    fs.writeFileSync(path.join(opts.outputDir, 'combined.json'), text);
  } else {
    process.stdout.write(text + '\n');
  }
}

// `solc --version` is asked far more often than anything is compiled (py-solc-x and ape-solidity
// ask before every compile, crytic-compile and pkr-pilot once per process), and loading solc-js's
// 8 MB soljson.js to answer takes about half a CPU-second. The answer is kept in
// node_modules/.cache/pkr-pilot-solc/version.json, keyed by soljson.js's size and modification time
// (a reinstalled or replaced compiler is asked again), and written atomically.
function version() {
  let soljson;
  try {
    soljson = require.resolve('solc/soljson.js', { paths: [PROJECT_ROOT] });
  } catch (err) {
    return loadSolc().version(); // reports solc-js missing the usual way
  }
  const stat = fs.statSync(soljson);
  const key = `${soljson}:${stat.size}:${stat.mtimeMs}`;
  const folder = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'pkr-pilot-solc');
  const file = path.join(folder, 'version.json');
  try {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (cached.key === key && typeof cached.version === 'string') return cached.version;
  } catch (err) {
    // absent or unreadable: ask solc-js
  }
  const answer = loadSolc().version();
  try {
    fs.mkdirSync(folder, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify({ key, version: answer }));
    fs.renameSync(temp, file);
  } catch (err) {
    // a read-only checkout still answers, only slower
  }
  return answer;
}

function help() {
  // py-solc-x takes the list of --combined-json keys from the line starting with "  --combined-json".
  const keys = [...Object.keys(COMBINED), ...COMBINED_SPECIAL].sort().join(',');
  process.stdout.write(
    [
      'solc, the solidity compiler commandline interface (Node-backed: solc-js, see tools/solc/solc.cjs)',
      '',
      'Usage: solc [options] [input_file...]',
      '',
      '  --version            Print version and exit.',
      '  --standard-json      Switch to Standard JSON input / output mode (stdin or one file).',
      '  --base-path path     Use the given path as the root of the source tree.',
      '  --include-path path  Make an additional source directory available to the default import callback.',
      '  --allow-paths path(s)',
      '                       Allow a given path for imports. A list of paths can be supplied by separating them with a comma.',
      '  --optimize           Enable bytecode optimizer.',
      '  --optimize-runs n    Set for how many contract runs to optimize.',
      '  --evm-version version',
      '                       Select desired EVM version.',
      '  --via-ir             Use the new IR-based code generator.',
      `  --combined-json ${keys}`,
      '',
    ].join('\n'),
  );
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === 'help') return help();
  if (opts.mode === null) {
    process.stderr.write('solc (Node-backed, solc-js): use --version, --standard-json or --combined-json KEYS FILE... (see --help)\n');
    process.exit(1);
  }
  if (opts.mode === 'version') {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${version()}\n`);
    return undefined;
  }
  const solc = loadSolc();
  if (opts.mode === 'standard-json') return standardJson(solc, opts);
  return combinedJson(solc, opts);
}

main();
