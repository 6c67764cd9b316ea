#!/usr/bin/env node
// Runs an ONNX model with ONNX Runtime (the external reference for trnsim's e2e tests).
// usage: node run_ort.js MODEL.onnx OUT_DIR NAME=FILE.npy...
// Writes OUT_DIR/<output>.npy for every model output (float32/16, int64/32/8, uint8 or bool).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// ---- minimal .npy reader/writer (little-endian, C order, version 1.0-3.0) ----
const DESCR = {
  '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array], '|b1': ['bool', Uint8Array],
  '<i4': ['int32', Int32Array], '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array],
  '<f2': ['float16', Uint16Array],  // ONNX Runtime takes float16 data as raw uint16 bits
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim())
    .filter(s => s.length).map(Number);
  if (!DESCR[descr]) throw new Error(`${file}: unsupported dtype ${descr}`);
  const [type, Arr] = DESCR[descr];
  const off = hstart + hlen;
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = buf.subarray(off, off + n * Arr.BYTES_PER_ELEMENT);
  const data = new Arr(new Uint8Array(bytes).buffer);
  return new ort.Tensor(type, type === 'bool' ? Uint8Array.from(data) : data, shape);
}

function writeNpy(file, tensor) {
  const map = { float32: '<f4', int64: '<i8', bool: '|b1', int32: '<i4', uint8: '|u1', int8: '|i1',
                float16: '<f2' };
  const descr = map[tensor.type];
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

async function main() {
  const [model, outDir, ...ins] = process.argv.slice(2);
  if (!model || !outDir) {
    console.error('usage: node run_ort.js MODEL.onnx OUT_DIR NAME=FILE.npy...');
    process.exit(2);
  }
  const feeds = {};
  for (const a of ins) {
    const eq = a.lastIndexOf('=');
    feeds[a.slice(0, eq)] = readNpy(a.slice(eq + 1));
  }
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
  const results = await session.run(feeds);
  fs.mkdirSync(outDir, { recursive: true });
  for (const name of session.outputNames)
    writeNpy(path.join(outDir, name.replace(/[^A-Za-z0-9_.-]/g, '_') + '.npy'), results[name]);
}

main().catch(e => { console.error(`run_ort.js: ${e.message}`); process.exit(1); });
