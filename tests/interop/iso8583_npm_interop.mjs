#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// Interoperability test: our ISO 8583 engine (through `eftctl iso8583`, dialect iso87-ascii)
// against the independent npm package iso_8583@2.6.7 (https://github.com/zemuldo/iso_8583).
//
//   node tests/interop/iso8583_npm_interop.mjs build/bin/eftctl
//   node tests/interop/iso8583_npm_interop.mjs --npm-only      (checks the npm half alone)
// Each eftctl run is killed after 15 s (EFT_INTEROP_TIMEOUT_MS overrides it).
//
// For every message below:
//   npm-self      the npm package packs it and unpacks its own bytes back (checks this harness);
//   npm->eftctl   the npm package packs it; `eftctl iso8583 decode --reveal` must return every field;
//   eftctl->npm   `eftctl iso8583 encode` packs it; the npm package must unpack every field;
//   wire          the bytes of both packers are identical (after the normalisation noted below).
//
// How the npm package is used, and why (read from its lib/8583.js, lib/pack, lib/unpack,
// lib/formats.js):
// * `new Iso8583(msg, customFormats).getRawMessage()` packs without the 2-byte length header;
//   `new Iso8583(undefined, customFormats).getIsoJSON(buf, {lenHeader: false})` unpacks.
//   Its JSON keys are field numbers ('0' = MTI) and '127.N' for subfields of field 127.
// * MTI: 4 ASCII digits. Numeric and text fields: ASCII characters; LL/LLL/LLLLLL prefixes:
//   ASCII decimal digits counting characters. This is iso87-ascii.
// * Bitmap: binary (the default; `bitmapEncoding: 'utf8'` would read an ASCII-hex bitmap).
//   The packer ALWAYS sets bit 1 and writes 16 bitmap bytes, i.e. an all-zero secondary bitmap
//   when no field 65-128 is present. That is legal ISO 8583 (bit 1 only says that a secondary
//   bitmap follows), so eftctl is given those bytes unchanged; only for the byte-for-byte `wire`
//   comparison an all-zero secondary bitmap is removed (bit 1 cleared), because our packer
//   writes the secondary bitmap only when a field 65-128 is present. The unpacker reads both.
// * Binary fields: the npm value is a hex string; a *fixed* `b` field of MaxLen M (in hex
//   digits) is written as M/2 raw bytes. Its built-in formats give 64, 65, 96 and 128 only
//   MaxLen 8/1/8/8 (4, 1/2, 4, 4 bytes), so those four are given customFormats of 16 hex digits =
//   8 raw bytes (the package's documented customisation API), as in iso87-ascii.
// * Fields 52 (b, 16 hex digits = 8 bytes) and 53 (b, 96 hex digits = 48 bytes) agree with no
//   customisation. (iso87-ascii follows the package where it departs from the 1987 table: 53 is
//   b 48 bytes, not n 16; 58 is n ..11 LL and 59 ans ...255 LLL, not ans ...999 LLL; so these are
//   tested too.)
// * Variable-length fields are always written as the JS string's characters (Buffer.alloc with
//   a utf8 string) and read back with toString(), whatever the ContentType: the package cannot
//   put arbitrary raw bytes in an LLL field. Field 55 (LLL raw bytes in iso87-ascii, "ans" in the
//   package) is therefore tested only with BER-TLV whose every byte is below 0x80, given to the
//   package as a latin1 string under a custom format (ContentType 'z', lllvar, 999), so that one
//   character = one byte; EMV data with bytes >= 0x80 (most tags, e.g. 9F26, 82, 95) cannot be
//   produced or read by the package and is left out.
// * Field 127: the package writes a 6-digit (LLLLLL) length, an 8-byte binary bitmap and the
//   Postilion-style subfields of its lib/formats.js ('127.N'), as iso87-ascii does. 127.29 is a
//   fixed b field (40 hex digits = 20 raw bytes) in both.
// * Field 127.25 (Postilion ICC data: LLLL length, a bitmap in 16 ASCII hex characters, then
//   subfields '127.25.N'): the package's unpacker reads it, but its packer
//   (lib/pack/assemble127_25_extensions.js) refuses any 127.25 that lacks one of the subfields
//   2..40 and otherwise falls back to writing the '127.25' value as plain LLLL text. So for the
//   packing side this script lays 127.25 out itself (bitmap + subfields, lengths taken from the
//   package's own lib/formats.js) and hands it to the package as that text; the `npm-self` line
//   then checks that the package's independent 127.25 unpacker reads back exactly the subfields
//   meant, before eftctl is asked to decode the same bytes.
// * Field 90 is a positional composite in iso87-ascii: eftctl prints it as
//   {"1": MTI, "2": STAN, "3": date-time, "4": acquirer, "5": forwarder}; the package sees the
//   42 digits as one string. The script splits/joins it (4, 6, 10, 11, 11 digits).
//
// Fields left out, with the reason:
// * 1 (the bitmap itself): not data. 65 is sent as 8 raw bytes of data (iso87-ascii has no
//   tertiary bitmap), as the package does with the custom format above.
// * 127.32 (UCAF, b ..33 LL): the package writes the hex text and counts characters; iso87-ascii
//   writes raw bytes and counts bytes. They disagree, so it is not sent.
// * Field 55 bytes >= 0x80 (see above), and 127 subfields above 39 / 127.25 subfields above 33,
//   which the package does not define.
// The package's data-type checks also refuse '@', '#' and '\' in ans fields, letters in 34
// (ns there, ans in iso87-ascii) and spaces in an fields, so the values below avoid them.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
let Iso8583;
let NPM_BUILTIN_FORMATS;
try {
  Iso8583 = require('iso_8583');
  NPM_BUILTIN_FORMATS = require('iso_8583/lib/formats');
} catch (e) {
  console.log(`FAIL  setup: cannot load the npm package iso_8583 (run \`npm ci\` in tests/interop): ${e.message.split('\n')[0]}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const SPEC = 'iso87-ascii';
const TIMEOUT_MS = Number(process.env.EFT_INTEROP_TIMEOUT_MS) || 15000;

// ---------------------------------------------------------------- npm package configuration
const B8 = (label) => ({ ContentType: 'b', Label: label, LenType: 'fixed', MaxLen: 16 });
const NPM_FORMATS = {
  '64': B8('Message authentication code'),
  '65': B8('Bitmap, extended (8 bytes in iso87-ascii)'),
  '96': B8('Message security code'),
  '128': B8('Message authentication code'),
  '55': { ContentType: 'z', Label: 'ICC data (raw bytes < 0x80 as latin1 text)', LenType: 'lllvar', MaxLen: 999 },
};
const BINARY_FIXED = new Set(['52', '53', '64', '65', '96', '128']); // hex in the JSON of both sides
const BINARY_FIXED_127 = new Set(['29']);
// Positional composites of iso87-ascii: subfield widths.
const POSITIONAL = { '90': [4, 6, 10, 11, 11] };
const LEN_DIGITS = { lvar: 1, llvar: 2, lllvar: 3, llllvar: 4, lllllvar: 5, llllllvar: 6 };

// ---------------------------------------------------------------- helpers
const hexOf = (s) => Buffer.from(s, 'latin1').toString('hex').toUpperCase();
const asciiHex = (s) => Buffer.from(s, 'ascii').toString('hex').toUpperCase();
const digits = (n, seed = 0) => Array.from({ length: n }, (_, i) => String((i + seed) % 10)).join('');
const text = (n, base = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz0123456789-.,/') =>
  Array.from({ length: n }, (_, i) => base[i % base.length]).join('');
function tlv(tag, valueHex) {
  const len = valueHex.length / 2;
  if (len > 127) throw new Error('tlv helper: short lengths only');
  return tag + len.toString(16).padStart(2, '0').toUpperCase() + valueHex.toUpperCase();
}

// Parse field 55 as BER-TLV. Returns {TAG: VALUE} when the bytes are canonical BER-TLV (every
// byte consumed, minimal length forms, no repeated tag), otherwise null.
function parseTlv(hex) {
  const b = Buffer.from(hex, 'hex');
  const out = {};
  let i = 0;
  while (i < b.length) {
    const start = i;
    if ((b[i] & 0x1f) === 0x1f) {
      i++;
      while (i < b.length && (b[i] & 0x80)) i++;
      if (i >= b.length) return null;
    }
    i++;
    const tag = b.subarray(start, i).toString('hex').toUpperCase();
    if (i >= b.length) return null;
    let len = b[i++];
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n < 1 || n > 3 || i + n > b.length) return null;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + b[i++];
      if (len < 0x80 || len < 1 << (8 * (n - 1))) return null;
    }
    if (i + len > b.length || Object.hasOwn(out, tag)) return null;
    out[tag] = b.subarray(i, i + len).toString('hex').toUpperCase();
    i += len;
  }
  return out;
}

// A test message is written in eftctl's JSON form, except that field 55 is a hex string.
// eftForm: field 55 becomes {TAG: VALUE} when canonical BER-TLV (as eftctl prints and reads it).
function eftForm(msg) {
  const out = structuredClone(msg);
  if (typeof out['55'] === 'string') {
    const t = parseTlv(out['55']);
    if (t) out['55'] = t;
  }
  for (const [f, widths] of Object.entries(POSITIONAL)) {
    if (typeof out[f] !== 'string') continue;
    const v = out[f];
    const sub = {};
    let at = 0;
    widths.forEach((w, i) => {
      sub[String(i + 1)] = v.slice(at, at + w);
      at += w;
    });
    out[f] = sub;
  }
  return out;
}

// Lay out field 127.25 as the package's unpacker reads it: 16 hex characters of bitmap, then
// each subfield with the length prefix of the package's own format table.
function build127_25(sub) {
  const nums = Object.keys(sub).map(Number).sort((a, b) => a - b);
  const bits = new Array(64).fill(0);
  for (const n of nums) bits[n - 1] = 1;
  let out = '';
  for (let i = 0; i < 64; i += 4) out += parseInt(bits.slice(i, i + 4).join(''), 2).toString(16).toUpperCase();
  for (const n of nums) {
    const f = NPM_BUILTIN_FORMATS[`127.25.${n}`];
    const v = sub[n];
    if (!f) throw new Error(`127.25.${n} is not defined by the npm package`);
    const ll = LEN_DIGITS[f.LenType];
    out += ll ? String(v.length).padStart(ll, '0') + v : v;
  }
  return out;
}

// npmForm: flat keys, '127.N' for subfields, field 55 as latin1 text (one char per byte).
function npmForm(msg) {
  const out = {};
  for (const [k, v] of Object.entries(msg)) {
    if (k === '127') {
      for (const [s, sv] of Object.entries(v)) out[`127.${s}`] = s === '25' ? build127_25(sv) : sv;
    } else if (k === '55') {
      const raw = Buffer.from(v, 'hex');
      if (raw.some((x) => x >= 0x80)) throw new Error('field 55 bytes >= 0x80 cannot go through the npm package');
      out[k] = raw.toString('latin1');
    } else {
      out[k] = v;
    }
  }
  return out;
}

// Back from the npm package's unpacked JSON to the test form.
function fromNpm(flat) {
  const out = {};
  for (const [k, v] of Object.entries(flat)) {
    if (k.startsWith('127.25.')) {
      out['127'] ??= {};
      out['127']['25'] ??= {};
      out['127']['25'][k.slice(7)] = v;
    } else if (k.startsWith('127.')) {
      out['127'] ??= {};
      const s = k.slice(4);
      out['127'][s] = BINARY_FIXED_127.has(s) ? v.toUpperCase() : v;
    } else if (k === '55') {
      out[k] = hexOf(v);
    } else if (BINARY_FIXED.has(k)) {
      out[k] = v.toUpperCase();
    } else {
      out[k] = v;
    }
  }
  return out;
}

function npmPack(msg) {
  const packer = new Iso8583(npmForm(msg), NPM_FORMATS);
  const r = packer.getRawMessage();
  if (!Buffer.isBuffer(r)) {
    const why = r && r.error ? r.error : JSON.stringify(packer.validateMessage());
    throw new Error(`npm package refused to pack: ${why}`);
  }
  return r;
}

function npmUnpack(buf) {
  const r = new Iso8583(undefined, NPM_FORMATS).getIsoJSON(buf, { lenHeader: false });
  if (!r || r.error) throw new Error(`npm package could not unpack: ${r ? r.error : r}`);
  return fromNpm(r);
}

// Remove an all-zero secondary bitmap and clear bit 1 (see the header comment).
function dropEmptySecondaryBitmap(buf) {
  if (buf.length >= 20 && (buf[4] & 0x80) && buf.subarray(12, 20).every((x) => x === 0)) {
    const b = Buffer.concat([buf.subarray(0, 12), buf.subarray(20)]);
    b[4] &= 0x7f;
    return b;
  }
  return buf;
}

// Compare expected vs got; returns a list of difference strings.
function diff(expected, got, where = '') {
  const out = [];
  if (typeof expected === 'string' || typeof got !== 'object' || got === null) {
    if (typeof expected !== 'string' || expected !== got) {
      out.push(`field ${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
    }
    return out;
  }
  for (const k of Object.keys(expected)) {
    const w = where ? `${where}.${k}` : k;
    if (!Object.hasOwn(got, k)) out.push(`field ${w}: expected ${JSON.stringify(expected[k])}, missing`);
    else out.push(...diff(expected[k], got[k], w));
  }
  for (const k of Object.keys(got)) {
    if (!Object.hasOwn(expected, k)) {
      out.push(`field ${where ? `${where}.${k}` : k}: not sent, got ${JSON.stringify(got[k])}`);
    }
  }
  return out;
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

// ---------------------------------------------------------------- the messages
const PAN = '4761739001010119';
const TXT43 = 'ACME SUPERMARKET       NAIROBI        KE';
const EMV = [
  tlv('5F2A', '0404'), // transaction currency code
  tlv('5F34', '01'), // PAN sequence number
  tlv('5A', '4111111111111111'), // PAN
  tlv('5F24', '251231'), // expiry date
  tlv('5F20', asciiHex('DOE/JOHN')), // cardholder name
  tlv('5F28', '0404'), // issuer country code
].join('');

const MESSAGES = [
  {
    name: '0200 purchase, magstripe with PIN',
    msg: {
      0: '0200', 2: PAN, 3: '000000', 4: '000000005000', 7: '0911131411', 11: '000123',
      12: '131411', 13: '0911', 14: '2212', 18: '5411', 22: '021', 23: '001', 25: '00', 26: '12',
      32: '423935', 35: `${PAN}D22122011758928889`, 37: '000012345678', 41: 'TERM0001',
      42: 'MERCHANT0000001', 43: TXT43, 49: '404', 52: '7434F67813BAE545',
    },
  },
  {
    name: '0210 purchase response with 38, 39, 54 and MAC 64',
    msg: {
      0: '0210', 2: PAN, 3: '000000', 4: '000000005000', 7: '0911131412', 11: '000123',
      12: '131411', 13: '0911', 25: '00', 32: '423935', 37: '000012345678', 38: 'A1B2C3', 39: '00',
      41: 'TERM0001', 42: 'MERCHANT0000001', 49: '404', 54: '1002404C000000005000',
      64: '0123456789ABCDEF',
    },
  },
  {
    name: '0800 network management echo (7, 11, 70)',
    msg: { 0: '0800', 7: '0911131411', 11: '000001', 70: '301' },
  },
  {
    name: '0420 reversal advice with 56, 90, 95',
    msg: {
      0: '0420', 2: '5413330089020011', 3: '000000', 4: '000000002000', 7: '0210160607',
      11: '148894', 12: '160607', 13: '0210', 22: '051', 25: '00', 32: '423935',
      37: '000000148893', 39: '68', 41: 'TERM0002', 42: 'MERCHANT0000002', 49: '404', 56: '4021',
      90: '0200' + '148893' + '0210160607' + '00000423935' + '00000000000',
      95: '000000001500' + '000000000000' + 'C00000000' + 'C00000000',
    },
  },
  {
    name: '0200 funds transfer with 100, 102, 103, 104 and MAC 128',
    msg: {
      0: '0200', 2: PAN, 3: '401020', 4: '000000150000', 7: '0911131411', 11: '000124',
      12: '131411', 13: '0911', 41: 'TERM0001', 42: 'MERCHANT0000001', 49: '404',
      100: '12345678901', 102: '1234567890123', 103: 'ACCT-0002-SAVINGS', 104: 'Transfer to savings',
      128: 'FEDCBA9876543210',
    },
  },
  {
    name: '0100 odd-length LL/LLL values',
    msg: {
      0: '0100', 2: '4111111111111', 3: '300000', 4: '000000000001', 11: '000007', 14: '2512',
      22: '012', 32: '1', 33: '123', 35: '4111111111111=2512101', 44: 'A',
      45: 'B4111111111111^DOE/JOHN^2512101', 48: 'ABCDEFG', 61: 'X', 102: 'X',
      123: 'ABCDEFGHIJKLMNO',
    },
  },
  {
    name: '0200 maximum-length variable fields',
    msg: {
      0: '0200', 2: '6011000990139424123', 3: '000000', 4: '999999999999', 11: '999999',
      32: '12345678901', 33: '98765432109', 34: digits(28, 3), 35: '6011000990139424123=2512101123456789',
      36: digits(104, 7), 44: text(25), 45: text(76), 48: text(999), 54: digits(120, 1),
      62: text(999, '0123456789 ZYXWVUTSRQPONMLKJIHGFEDCBA'), 100: '10987654321', 102: text(28),
      103: digits(28), 104: text(100), 126: text(999, 'xyz 789'),
    },
  },
  {
    name: '0100 EMV authorisation with field 55 (BER-TLV)',
    msg: {
      0: '0100', 2: '4111111111111111', 3: '000000', 4: '000000012345', 7: '0911131411',
      11: '000321', 14: '2512', 22: '051', 23: '001', 25: '00', 35: '4111111111111111=25122011758928889',
      41: 'TERM0003', 42: 'MERCHANT0000003', 49: '404', 55: EMV,
    },
  },
  {
    name: '0100 with field 55 not canonical TLV (plain hex)',
    msg: {
      0: '0100', 2: '4111111111111111', 3: '000000', 4: '000000000100', 11: '000322',
      41: 'TERM0003', 49: '404', 55: '0102030405',
    },
  },
  {
    name: '0500 reconciliation with x+n 28, 97 and 66-89',
    msg: {
      0: '0500', 7: '0911235959', 11: '000777', 15: '0912', 28: 'C00000150', 50: '840', 66: '1',
      74: '0000000010', 75: '0000000001', 76: '0000000020', 77: '0000000002', 78: '0000000003',
      79: '0000000000', 80: '0000000005', 81: '0000000030', 82: '000000000100', 83: '000000000200',
      84: '000000000300', 85: '000000000400', 86: '0000000000100000', 87: '0000000000001000',
      88: '0000000000200000', 89: '0000000000002000', 97: 'D0000000000012345', 99: '423935',
    },
  },
  {
    name: '0800 key exchange with 65, 70, 96 (8-byte binary fields)',
    msg: {
      0: '0800', 7: '0911131411', 11: '000002', 65: '1122334455667788', 70: '101',
      96: 'A1B2C3D4E5F60718',
    },
  },
  {
    name: '0200 with field 127 subfields (own bitmap)',
    msg: {
      0: '0200', 2: PAN, 3: '000000', 4: '000000005000', 7: '0911131411', 11: '000125',
      41: 'TERM0001', 49: '404',
      127: { 2: '000123456789', 3: text(48, 'ROUTE 0123456789'), 6: '11', 20: '20240911', 33: '6011' },
    },
  },
  {
    name: '0200 with every field 2-128 (bitmaps full)',
    msg: (() => {
      const m = {
        0: '0200', 2: PAN, 3: '000000', 4: '000000001000', 5: '000000001100', 6: '000000001200',
        7: '0911131411', 8: '00000100', 9: '61000000', 10: '61000001', 11: '000001', 12: '131411',
        13: '0911', 14: '2512', 15: '0912', 16: '0911', 17: '0911', 18: '5999', 19: '404', 20: '404',
        21: '404', 22: '051', 23: '001', 24: '001', 25: '00', 26: '12', 27: '6', 28: 'C00000100',
        29: 'D00000200', 30: 'C00000300', 31: 'D00000400', 32: '423935', 33: '423936',
        34: '1234567890123456789', 35: `${PAN}=22122011758928889`, 36: digits(60, 2),
        37: '000000000001', 38: 'ABC123', 39: '00', 40: '101', 41: 'TERM0009', 42: 'MERCHANT0000009',
        43: TXT43, 44: 'ADDL RESP', 45: `B${PAN}^DOE/JOHN^22122011758928889`, 46: 'ISO ADDL',
        47: 'NATIONAL ADDL', 48: 'PRIVATE ADDL', 49: '404', 50: '840', 51: '978',
        52: '0123456789ABCDEF', 53: 'A5'.repeat(48), 54: '1002404C000000005000', 55: EMV,
        56: '1510', 57: 'RESERVED NATIONAL', 58: '12345', 59: 'RESERVED 59', 60: 'R60', 61: 'R61',
        62: 'R62', 63: 'R63', 64: '1111111111111111', 65: '2222222222222222', 66: '1', 67: '01',
        68: '404', 69: '404', 70: '001', 71: '0001', 72: '0002', 73: '240911',
        90: '0100' + '000001' + '0911131411' + '00000423935' + '00000423936',
        91: '1', 92: 'AB', 93: 'RI123', 94: 'SVC1234', 95: 'A'.repeat(42),
        96: '3333333333333333', 97: 'C0000000000001000', 98: 'PAYEE NAME'.padEnd(25),
        99: '423935', 100: '423936', 101: 'FILE.NAME.01', 102: 'ACCT1', 103: 'ACCT2', 104: 'DESC',
        123: 'AN123', 127: { 2: '000000000012' }, 128: '4444444444444444',
      };
      for (let f = 74; f <= 89; f++) m[f] = digits(f <= 81 ? 10 : f <= 85 ? 12 : 16, f);
      for (let f = 105; f <= 126; f++) if (!m[f]) m[f] = f >= 118 && f <= 122 ? String(f).repeat(3) : `R${f}`;
      return m;
    })(),
  },
  {
    name: '0200 with field 127 subfields 2-39 (incl. 127.25 ICC data)',
    msg: {
      0: '0200', 2: PAN, 3: '000000', 4: '000000005000', 11: '000126', 41: 'TERM0001', 49: '404',
      127: {
        2: '000123456789012', 3: text(48, 'ROUTE 0123456789'), 4: text(22, 'POS DATA 1'), 5: text(73),
        6: '01', 7: 'CHECK DATA', 8: text(150), 9: 'ADDITIONAL NODE DATA', 10: '123',
        11: 'ORIGINAL KEY 0001', 12: 'TERMINAL OWNER', 13: 'NAIROBI KE 00100'.padEnd(17), 14: 'SPONSOR1',
        15: 'P O BOX 123 NAIROBI', 16: 'Y', 17: 'JOHN DOE', 18: 'VALIDATION', 19: text(31, 'BANK '),
        20: '20240911', 21: 'REC000000001', 22: '212PostilionData3ABC', 23: text(253, 'PAYEE '),
        24: 'PAYER ACCT 00000001',
        25: {
          2: '000000005000', 3: '000000000000', 4: 'A0000000031010', 5: '5C00', 6: '0123', 7: 'FF00',
          8: '00', 9: '1', 10: 'A', 11: '0', 12: '1A2B3C4D5E6F7081', 13: '80', 14: '000000000000000042031E031F00',
          15: '420300', 16: '12345678', 17: 'FC50BC8800Z', 18: '06010A03A0B800', 19: '0000000000',
          20: '008C', 21: 'E0F8C8', 22: '404', 23: '22', 24: '0000008000', 25: 'R', 26: '404',
          27: '240911', 28: '123', 29: '00', 30: '1A2B3C4D', 31: '1A2B3C4D5E6F70810012',
          32: '9F1804000000018609', 33: '860D8424000008',
        },
        26: 'ORIGNODE', 27: 'M', 28: '1234', 29: '0123456789ABCDEF0123456789ABCDEF01234567',
        30: '1', 31: 'ISSNET01', 33: '6011', 34: '10', 35: 'ACQNET01', 36: 'CUSTOMER ID 42',
        37: 'A001', 38: 'ADDLPOS0001', 39: '00',
      },
    },
  },
];

// ---------------------------------------------------------------- run
const args = process.argv.slice(2);
const npmOnly = args.includes('--npm-only');
const eftArg = args.find((a) => !a.startsWith('--'));
const eftctl = eftArg ? path.resolve(eftArg) : null;

let passed = 0;
let failed = 0;
function report(ok, label, details = []) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${label}`);
  for (const d of details) console.log(`      ${d}`);
}

function runEftctl(argv, input) {
  const r = spawnSync(eftctl, argv, {
    input, encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024,
  });
  if (r.error) return { err: `eftctl ${argv.slice(0, 2).join(' ')}: ${r.error.message}` };
  if (r.status !== 0) {
    const how = r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
    return { err: `eftctl ${argv.slice(0, 2).join(' ')}: ${how}: ${(r.stderr || '').trim()}` };
  }
  return { out: r.stdout.trim() };
}

if (!npmOnly && (!eftctl || !existsSync(eftctl))) {
  console.error(`usage: node ${path.basename(process.argv[1])} <path to eftctl> | --npm-only`);
  report(false, `setup: eftctl not found at ${eftctl ?? '(no path given)'}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}

for (const { name, msg } of MESSAGES) {
  const expected = eftForm(msg);

  // npm-self: the package reads back what it wrote.
  let npmBytes;
  try {
    npmBytes = npmPack(msg);
    const back = npmUnpack(npmBytes);
    const d = diff(msg, back);
    report(d.length === 0, `npm-self     ${name}`, d.length ? [...d, `hex ${npmBytes.toString('hex').toUpperCase()}`] : []);
  } catch (e) {
    report(false, `npm-self     ${name}`, [e.message]);
    continue;
  }
  if (npmOnly) continue;

  // npm -> eftctl
  const npmHex = npmBytes.toString('hex').toUpperCase();
  {
    const r = runEftctl(['iso8583', 'decode', '--spec', SPEC, '--hex', npmHex, '--reveal']);
    let d;
    if (r.err) d = [r.err];
    else {
      try {
        d = diff(expected, JSON.parse(r.out));
      } catch (e) {
        d = [`output is not JSON: ${e.message}: ${r.out.slice(0, 200)}`];
      }
    }
    report(d.length === 0, `npm->eftctl  ${name}`, d.length ? [...d, `hex ${npmHex}`] : []);
  }

  // eftctl -> npm, and the wire comparison.
  {
    const input = JSON.stringify(expected);
    const r = runEftctl(['iso8583', 'encode', '--spec', SPEC, '--json', '-'], input);
    if (r.err) {
      report(false, `eftctl->npm  ${name}`, [r.err, `json ${input}`]);
      report(false, `wire         ${name}`, ['no eftctl encoding to compare']);
      continue;
    }
    const eftHex = r.out.toUpperCase();
    if (!/^([0-9A-F]{2})+$/.test(eftHex)) {
      report(false, `eftctl->npm  ${name}`, [`eftctl encode printed no hex: ${r.out.slice(0, 200)}`]);
      report(false, `wire         ${name}`, ['no eftctl encoding to compare']);
      continue;
    }
    let d;
    try {
      d = diff(msg, npmUnpack(Buffer.from(eftHex, 'hex')));
    } catch (e) {
      d = [e.message];
    }
    report(d.length === 0, `eftctl->npm  ${name}`, d.length ? [...d, `hex ${eftHex}`, `json ${input}`] : []);

    const want = dropEmptySecondaryBitmap(npmBytes).toString('hex').toUpperCase();
    const at = firstDifference(want, eftHex);
    report(at < 0, `wire         ${name}`, at < 0 ? [] : [
      `first difference at byte ${at >> 1}`,
      `npm    ${want}`,
      `eftctl ${eftHex}`,
    ]);
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
