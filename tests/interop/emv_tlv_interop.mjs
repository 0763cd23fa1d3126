#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// Interoperability test: our BER-TLV parser (through `eftctl emv decode --json --reveal`) against the
// independent npm package ber-tlv@0.9.2 (https://github.com/eumes/ber-tlv, MIT).
//
//   node tests/interop/emv_tlv_interop.mjs build/bin/eftctl
// Each eftctl run is killed after 15 s (EFT_INTEROP_TIMEOUT_MS overrides it).
//
// For every field 55 sample below, both parsers must give the same tree: the same objects in the same
// order, the same tags, constructed objects with the same children, primitive objects with the same
// value (and eftctl's length = the value's size); for a constructed object eftctl's value must be the
// package's serialisation of the children when the sample is canonical (minimal lengths, no padding
// inside templates). Then 200 random trees, written by the package's serializer
// (TlvFactory.serialize), are read by eftctl and compared the same way. Malformed samples that both
// must refuse close the run: eftctl with exit status 1 and one line naming the offset, the package by
// throwing.
//
// How the package is used, and why (read from its src/TlvParser.ts, TlvSerializer.ts, Tlv.ts):
// * TlvFactory.parse(hex) returns ITlv[] {tag: uppercase hex, type: 0 primitive / 1 constructed,
//   value: Buffer (null when constructed), items: ITlv[] (null when primitive)}; it throws on
//   truncated data. It skips 0x00 bytes between objects, as Book 3 B1 allows and as eftctl does.
// * Where the package departs from EMV Book 3 annex B, the samples avoid the case: it reads 0xFF
//   (which eftctl skips as padding) as the first byte of a tag, the length byte 0x80 (indefinite,
//   refused by eftctl) as a zero length, and tags of 4 and more bytes (refused by eftctl), so no
//   sample holds 0xFF padding, 0x80 lengths or 4-byte tags; those cases are covered by the unit tests
//   (tests/emv/tlv_test.cpp) and the CLI test instead.
// * TlvFactory.serialize writes minimal definite lengths (0x81/0x82 forms above 127 bytes), so its
//   output is canonical.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
let TlvFactory;
try {
  ({ TlvFactory } = require('ber-tlv'));
} catch (e) {
  console.log(`FAIL  setup: cannot load the npm package ber-tlv (run \`npm ci\` in tests/interop): ${e.message.split('\n')[0]}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const TIMEOUT_MS = Number(process.env.EFT_INTEROP_TIMEOUT_MS) || 15000;

// ---------------------------------------------------------------- samples
const rep = (byteHex, n) => byteHex.repeat(n);
const SAMPLES = [
  {
    // ../shared/vectors/payment-crypto.yaml emv.visa_cvn10 (pyemv tests/test_cvn_hsm.py) as a
    // terminal sends it, with card data.
    name: 'Visa CVN 10 request with card data',
    canonical: true,
    hex: '9F260829CCA15AE665FA2E9F2701809F100706010A03A060109F370452BF45859F3602001C95058000048000' +
      '9A031911059C01019F02060000000040005F2A020124820218009F1A0201249F03060000000000009F3303E0F8C8' +
      '9F34031F03028407A00000000310105F3401005A08476173900101001057114761739001010010D22122011758928889',
  },
  {
    name: 'Visa CVN 18 request (payment-crypto.yaml emv.visa_cvn18)',
    canonical: true,
    hex: '9F26087A788EA6B8A3E7339F2701809F100706011203A0B8009F370452BF45859F3602001C950580000480009A03191105' +
      '9C01019F02060000000040005F2A020124820218009F1A0201249F0306000000000000',
  },
  {
    name: 'Mastercard CVN 17 request (pyemv test_cvn_hsm.py)',
    canonical: true,
    hex: '9F2608EAE8A620A75648D89F2701809F10120111A00003220000000000000000000322FF9F3704ABCDEF129F3602001C' +
      '950580000000009A032099069C01009F02060000000099999F03060000000000005F2A020124820218009F1A020124' +
      '9F3303E0F8C89F34031F03029F3501229F1E0831323334353637388407A00000000410109F530152',
  },
  {
    name: 'contactless request with a CCD IAD (9F66, 9F6C, 9F6E, 9F7C, 9F5B)',
    canonical: true,
    hex: '9F260811223344556677889F2701809F10200FA501A00000000000000000000000000F' + rep('00', 15) +
      '9F660436004000' + '9F6C023E00' + '9F6E0420700000' + '9F7C0A' + rep('AB', 10) + '9F5B050000000001',
  },
  {
    name: 'response: 91 (method 1) and issuer scripts 71 and 72',
    canonical: true,
    hex: '910A28993816AFAE4AEB3030' + '71129F18040000000186098424000004AABBCCDD' + '72099F18040000000286' + '00',
  },
  {
    name: 'response: 91 (method 2) and 8A',
    canonical: true,
    hex: '91089AF514C1008000008A023030',
  },
  {
    name: 'FCI of the PPSE (node-tlv README): 6F { 84, A5 { BF0C { 61 { 4F, 50 } } } }',
    canonical: true,
    hex: '6F2C840E325041592E5359532E4444463031A51ABF0C1761154F07A0000000031010500A56495341435245444954',
  },
  {
    name: 'long lengths: 0x81 (130), 0x82 (300), 0x83 (1) and a template around 0x82',
    canonical: false, // 0x83 000001 is not minimal
    hex: '9F108182' + rep('5A', 130) + '868201' + '2C' + rep('11', 300) + '9C8300000101' +
      '71820137' + '9F180400000003' + '8682012C' + rep('22', 300),
  },
  {
    name: 'zero-length values, empty templates, unknown and 3-byte tags',
    canonical: true,
    hex: '9F26007100E0009F8201009F820101FFDF810103ABCDEFC10101' + 'BF0C00',
  },
  {
    name: 'repeated tags kept in order',
    canonical: true,
    hex: '9F2701809F36020001' + '9F2701409F36020002' + '710E9F1804000000018603AABBCC' + '8600',
  },
  {
    name: '0x00 padding before, between, inside and after objects',
    canonical: false,
    hex: '00009F2701800000' + '710A009F180400000001' + '8600' + '00' + '9F36020001' + '000000',
  },
];

// Malformed: both parsers refuse. [name, hex, expected eftctl message part]
const MALFORMED = [
  ['value longer than the data (short form)', '9C0200', 'offset 1: tag 9C: length runs past the end'],
  ['long-form length larger than the data', '9F1081FF0102', 'offset 2: tag 9F10: length runs past the end'],
  ['0x82 length larger than the data', '9F10820100AA', 'offset 2: tag 9F10: length runs past the end'],
  ['tag continuation off the end', '9F2701809F', 'offset 4: data ends inside a data object'],
  ['length missing', '9F270180 9C'.replace(' ', ''), 'offset 5: tag 9C: data ends inside a data object'],
  ['long length cut', '9C8200', 'offset 1: tag 9C: data ends inside a data object'],
];

// ---------------------------------------------------------------- comparison
const toHex = (b) => Buffer.from(b).toString('hex').toUpperCase();

// Differences between the package's tree and eftctl's JSON (empty when they agree).
function compare(npm, eft, canonical, where = '') {
  const d = [];
  if (npm.length !== eft.length) {
    d.push(`${where || 'top'}: ${npm.length} objects in ber-tlv, ${eft.length} in eftctl ` +
      `(${npm.map((o) => o.tag).join(' ')} / ${eft.map((o) => o.tag).join(' ')})`);
    return d;
  }
  npm.forEach((n, i) => {
    const e = eft[i];
    const at = `${where}${where ? ' > ' : ''}${n.tag}#${i}`;
    if (n.tag !== e.tag) d.push(`${at}: tag ${n.tag} vs ${e.tag}`);
    const constructed = n.type === 1;
    if (constructed !== Array.isArray(e.children)) {
      d.push(`${at}: constructed in ${constructed ? 'ber-tlv' : 'eftctl'} only`);
      return;
    }
    if (constructed) {
      d.push(...compare(n.items || [], e.children, canonical, at));
      if (canonical) {
        const content = toHex(TlvFactory.serialize(n.items || []));
        if (content !== e.value) d.push(`${at}: template content ${content} vs ${e.value}`);
        if (content.length / 2 !== e.length) d.push(`${at}: length ${content.length / 2} vs ${e.length}`);
      }
    } else {
      const v = toHex(n.value || Buffer.alloc(0));
      if (v !== e.value) d.push(`${at}: value ${v} vs ${e.value}`);
      if (v.length / 2 !== e.length) d.push(`${at}: eftctl length ${e.length} for ${v.length / 2} bytes`);
    }
  });
  return d;
}

// ---------------------------------------------------------------- random trees
// Deterministic PRNG (mulberry32), so a failure reproduces.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const PRIMITIVE_TAGS = ['5A', '57', '82', '84', '8A', '91', '95', '9A', '9C', '9F02', '9F10', '9F26', '9F27', '9F36',
  '9F37', '5F2A', '5F34', '9F8201', 'DF8101', 'DF01', '86', '9F18', 'C1'];
const CONSTRUCTED_TAGS = ['70', '71', '72', '77', 'A5', 'BF0C', 'E0', 'E1'];
function randomItems(next, depth) {
  const n = Math.floor(next() * 5);
  const items = [];
  for (let i = 0; i < n; i++) {
    if (depth < 4 && next() < 0.25) {
      items.push(TlvFactory.constructedTlv(CONSTRUCTED_TAGS[Math.floor(next() * CONSTRUCTED_TAGS.length)],
        randomItems(next, depth + 1)));
    } else {
      const r = next();
      const len = r < 0.7 ? Math.floor(next() * 16) : r < 0.9 ? 120 + Math.floor(next() * 20) : 250 + Math.floor(next() * 100);
      const value = Buffer.alloc(len);
      for (let k = 0; k < len; k++) value[k] = Math.floor(next() * 256);
      items.push(TlvFactory.primitiveTlv(PRIMITIVE_TAGS[Math.floor(next() * PRIMITIVE_TAGS.length)], value));
    }
  }
  return items;
}

// ---------------------------------------------------------------- run
const eftArg = process.argv.slice(2).find((a) => !a.startsWith('--'));
const eftctl = eftArg ? path.resolve(eftArg) : null;
let passed = 0;
let failed = 0;
function report(ok, label, details = []) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${label}`);
  for (const d of details.slice(0, 10)) console.log(`      ${d}`);
}
function decode(hex) {
  return spawnSync(eftctl, ['emv', 'decode', '--hex', hex, '--json', '--reveal'], {
    encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024,
  });
}
function check(label, hex, canonical) {
  let npm;
  try {
    npm = TlvFactory.parse(hex);
  } catch (e) {
    report(false, label, [`ber-tlv refused it: ${e.message}`]);
    return;
  }
  const r = decode(hex);
  if (r.error || r.status !== 0) {
    report(false, label, [`eftctl: ${r.error ? r.error.message : `exit ${r.status}: ${r.stderr.trim()}`}`]);
    return;
  }
  let eft;
  try {
    eft = JSON.parse(r.stdout);
  } catch (e) {
    report(false, label, [`eftctl printed no JSON: ${e.message}`]);
    return;
  }
  const d = compare(npm, eft, canonical);
  report(d.length === 0, label, d);
}

if (!eftctl || !existsSync(eftctl)) {
  console.error(`usage: node ${path.basename(process.argv[1])} <path to eftctl>`);
  report(false, `setup: eftctl not found at ${eftctl ?? '(no path given)'}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}

for (const s of SAMPLES) check(`sample  ${s.name}`, s.hex, s.canonical);

const next = rng(0x55);
const RANDOM = 200;
let randomFailures = 0;
for (let i = 0; i < RANDOM; i++) {
  const items = randomItems(next, 0);
  const hex = toHex(TlvFactory.serialize(items));
  const before = failed;
  if (hex.length === 0) continue;
  check(`random  #${i} (${hex.length / 2} bytes)`, hex, true);
  if (failed > before) {
    randomFailures++;
    console.log(`      hex ${hex.slice(0, 400)}`);
  }
}

for (const [name, hex, want] of MALFORMED) {
  let npmRefused = false;
  try {
    TlvFactory.parse(hex);
  } catch {
    npmRefused = true;
  }
  const r = decode(hex);
  const lines = (r.stderr || '').trim().split('\n');
  const ok = npmRefused && r.status === 1 && lines.length === 1 && lines[0].includes(want);
  report(ok, `refused ${name}`, ok ? [] : [`ber-tlv refused: ${npmRefused}`, `eftctl exit ${r.status}: ${r.stderr.trim()}`]);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
