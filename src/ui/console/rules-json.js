/*
 * Switchboard console — a small strict JSON reader for the rules editor that remembers where
 * every path starts, so problems such as "rules[1].when" can be pointed at in the text. Pure.
 */
import { has } from './ui.js';

/**
 * A small strict JSON reader that remembers where every path starts, so problems such as
 * "rules[1].when" can be pointed at in the editor. Throws {code, pos, tok} on malformed text.
 */
export function locate(text) {
  var i = 0, n = text.length, paths = {};
  function fail(code, at, tok) { var e = new Error(code); e.code = code; e.pos = at == null ? i : at; e.tok = tok; throw e; }
  function tokAt(p) {
    if (p >= n) return '';
    var m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(p, p + 24));
    return m ? m[0] : text.charAt(p);
  }
  function ws() {
    for (;;) {
      while (i < n && /[ \t\n\r]/.test(text.charAt(i))) i++;
      if (text.charAt(i) === '/' && (text.charAt(i + 1) === '/' || text.charAt(i + 1) === '*')) fail('unexpected', i, text.substr(i, 2));
      return;
    }
  }
  function str() {
    var start = i; i++;
    for (;;) {
      if (i >= n) fail('string', start);
      var c = text.charAt(i);
      if (c === '"') { i++; return JSON.parse(text.slice(start, i)); }
      if (c === '\\') {
        var e = text.charAt(i + 1);
        if (e === 'u') { if (!/^[0-9a-fA-F]{4}$/.test(text.substr(i + 2, 4))) fail('escape', i); i += 6; continue; }
        if ('"\\/bfnrt'.indexOf(e) === -1 || e === '') fail('escape', i);
        i += 2; continue;
      }
      if (c.charCodeAt(0) < 0x20) fail('control', i);
      i++;
    }
  }
  function numb() {
    var re = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    re.lastIndex = i;
    var m = re.exec(text);
    if (!m || !m[0] || /[0-9A-Za-z.]/.test(text.charAt(i + m[0].length))) fail('number', i);
    i += m[0].length;
    return Number(m[0]);
  }
  function value(path) {
    ws();
    if (i >= n) fail('eof', i);
    if (path && !has(paths, path)) paths[path] = i;
    var c = text.charAt(i);
    if (c === '{') return object(path);
    if (c === '[') return array(path);
    if (c === '"') return str();
    if (c === '-' || (c >= '0' && c <= '9')) return numb();
    var words = { 'true': true, 'false': false, 'null': null };
    for (var w in words) if (text.substr(i, w.length) === w && !/[A-Za-z0-9_]/.test(text.charAt(i + w.length))) { i += w.length; return words[w]; }
    fail('unexpected', i, tokAt(i));
  }
  function object(path) {
    var out = {}; i++; ws();
    if (text.charAt(i) === '}') { i++; return out; }
    for (;;) {
      ws();
      if (i >= n) fail('eof', i);
      if (text.charAt(i) !== '"') fail(text.charAt(i) === '}' ? 'trailing' : 'key', i, tokAt(i));
      var keyAt = i, k = str();
      ws();
      if (text.charAt(i) !== ':') fail(i >= n ? 'eof' : 'colon', i, tokAt(i));
      i++;
      var p = path ? path + '.' + k : k;
      paths[p] = keyAt;
      out[k] = value(p);
      ws();
      if (text.charAt(i) === ',') { i++; continue; }
      if (text.charAt(i) === '}') { i++; return out; }
      fail(i >= n ? 'eof' : 'unexpected', i, tokAt(i));
    }
  }
  function array(path) {
    var out = []; i++; ws();
    if (text.charAt(i) === ']') { i++; return out; }
    for (;;) {
      ws();
      if (text.charAt(i) === ']') fail('trailing', i);
      out.push(value(path + '[' + out.length + ']'));
      ws();
      if (text.charAt(i) === ',') { i++; continue; }
      if (text.charAt(i) === ']') { i++; return out; }
      fail(i >= n ? 'eof' : 'unexpected', i, tokAt(i));
    }
  }
  var v = value('');
  ws();
  if (i < n) fail('after', i, tokAt(i));
  return { value: v, paths: paths };
}
export function lineCol(text, pos) {
  var before = text.slice(0, pos), lines = before.split('\n');
  return { line: lines.length, col: lines[lines.length - 1].length + 1 };
}
/** Offset of a problem path in the text, trimming the path until something is found. */
export function pathOffset(paths, path) {
  var p = String(path || '');
  while (p) {
    if (has(paths, p)) return paths[p];
    var cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) break;
    p = p.slice(0, cut);
  }
  return has(paths, p) ? paths[p] : null;
}
