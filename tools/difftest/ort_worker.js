#!/usr/bin/env node
// Persistent ONNX Runtime worker for the differential tester (tools/difftest/): one JSON request
// per stdin line, one JSON reply per stdout line, so a run of 20,000 graphs starts node once.
//   request: {"model": PATH, "inputs": {NAME: NPY}, "out_dir": DIR, "threads": 1}
//   reply:   {"ok": true, "outputs": {NAME: {"file": NPY, "dtype": T, "shape": [..]}}}
//            {"ok": false, "stage": "load"|"run"|"write", "error": MESSAGE}
// Graph optimisation is off (ORT's own fusions would change rounding). Outputs are written as
// DIR/<name>.npy (name sanitised as trnsim does); float64 outputs are supported for arbitration.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const ortDir = process.env.TRNSIM_ORT_DIR || path.join(__dirname, '..', '..', 'tests', 'ort');
const ort = require(path.join(ortDir, 'node_modules', 'onnxruntime-node'));

const DESCR = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array], '|b1': ['bool', Uint8Array], '<i4': ['int32', Int32Array],
  '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array], '<f2': ['float16', Uint16Array],
};
const TO_DESCR = {
  float32: '<f4', float64: '<f8', int64: '<i8', bool: '|b1', int32: '<i4', uint8: '|u1',
  int8: '|i1', float16: '<f2',
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim())
    .filter(s => s.length).map(Number);
  if (!DESCR[descr]) throw new Error(`${file}: unsupported dtype ${descr}`);
  const [type, Arr] = DESCR[descr];
  const off = hstart + hlen;
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(buf.subarray(off, off + n * Arr.BYTES_PER_ELEMENT));
  const data = new Arr(bytes.buffer, 0, n);
  // ONNX Runtime for Node takes float16 data as raw uint16 bits.
  return new ort.Tensor(type, type === 'bool' ? Uint8Array.from(data) : data, shape);
}

function writeNpy(file, tensor) {
  const descr = TO_DESCR[tensor.type];
  if (!descr) throw new Error(`output dtype ${tensor.type} not supported`);
  const dims = tensor.dims;
  const shape = dims.length === 0 ? '()' : dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  let data = tensor.data;
  if (tensor.type === 'bool') data = Uint8Array.from(data, v => (v ? 1 : 0));
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

async function handle(req) {
  let session;
  try {
    session = await ort.InferenceSession.create(req.model, {
      graphOptimizationLevel: 'disabled', intraOpNumThreads: req.threads || 1,
      interOpNumThreads: 1, executionMode: 'sequential',
    });
  } catch (e) {
    return { ok: false, stage: 'load', error: String(e.message || e) };
  }
  let results;
  try {
    const feeds = {};
    for (const [name, file] of Object.entries(req.inputs || {})) feeds[name] = readNpy(file);
    results = await session.run(feeds);
  } catch (e) {
    return { ok: false, stage: 'run', error: String(e.message || e) };
  } finally {
    // Free the native session now: thousands of graphs run through one worker.
    if (session.release) await session.release().catch(() => {});
  }
  try {
    fs.mkdirSync(req.out_dir, { recursive: true });
    const outputs = {};
    for (const [name, t] of Object.entries(results)) {
      const file = path.join(req.out_dir, name.replace(/[^A-Za-z0-9_.-]/g, '_') + '.npy');
      writeNpy(file, t);
      outputs[name] = { file, dtype: t.type, shape: Array.from(t.dims) };
    }
    return { ok: true, outputs };
  } catch (e) {
    return { ok: false, stage: 'write', error: String(e.message || e) };
  }
}

// Requests are handled one at a time, in order.
const rl = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', line => {
  if (!line.trim()) return;
  chain = chain.then(async () => {
    let reply;
    try {
      reply = await handle(JSON.parse(line));
    } catch (e) {
      reply = { ok: false, stage: 'request', error: String(e.message || e) };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  });
});
rl.on('close', () => chain.then(() => process.exit(0)));
